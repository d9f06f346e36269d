"""Regenerate src/bhyt/refdata/icd10.csv.gz from the Ministry's ICD-10 list (QĐ 4469/QĐ-BYT).

Columns: code (as written in claims, with its dot: "J18.9"), key (without the dot), chapter,
name_vi, main_allowed (0 for the codes of Phụ lục A2 that may not be a main diagnosis), sex ("F"
for Phụ lục A4.1, "M" for A4.2), min_age_days / max_age_days and age_rule (Phụ lục A3.x).

Usage: .venv/bin/python scripts/gen_icd10.py [XLSX]
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import sys
from pathlib import Path

import openpyxl

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_XLSX = ROOT.parent / "shared/domain/reference/icd10-qd4469-byt.xlsx"
OUT = ROOT / "src/bhyt/refdata/icd10.csv.gz"

Y = 365
# Phụ lục A3.x -> (min age in days, max age in days), from each sub-appendix's title.
AGE_RULES = {
    "A3.1": (0, 365),  # 0 - 365 ngày
    "A3.2": (0, 3 * Y - 1),  # 0 ngày - 2 tuổi
    "A3.3": (0, 11 * Y - 1),  # 0 ngày - 10 tuổi
    "A3.4": (0, 20 * Y - 1),  # 0 ngày - 19 tuổi
    "A3.5": (28, None),  # trên 27 ngày tuổi
    "A3.6": (1 * Y, None),  # 1 tuổi trở lên
    "A3.7": (8 * Y, 20 * Y - 1),  # 8 - 19 tuổi
    "A3.8": (9 * Y, 61 * Y - 1),  # 9 - 60 tuổi
    "A3.9": (16 * Y, None),  # trên 15 tuổi
    "A3.10": (31 * Y, None),  # trên 30 tuổi
}
KEY = re.compile(r"^[A-Z][0-9][0-9A-Z]{1,4}$")


def main(xlsx: Path) -> None:
    wb = openpyxl.load_workbook(xlsx, read_only=True)
    codes: dict[str, dict[str, object]] = {}
    for row in wb["ICD10"].iter_rows(min_row=4, values_only=True):
        code, key = str(row[16] or "").strip(), str(row[17] or "").strip()
        if not KEY.match(key):
            continue
        codes[key] = {
            "code": code,
            "key": key,
            "chapter": str(row[1]).strip(),
            "name_vi": " ".join(str(row[19] or "").split()),
            "main_allowed": 1,
            "sex": "",
            "min_age_days": "",
            "max_age_days": "",
            "age_rule": "",
        }
    unknown: set[str] = set()
    for name in wb.sheetnames:
        if not name.startswith(("A2", "A3", "A4")):
            continue
        rule = ""
        for row in wb[name].iter_rows(values_only=True):
            first = str(row[0] or "").strip()
            if first.startswith("Phụ lục"):
                rule = first.split()[2].rstrip(":")
                continue
            if first not in codes:
                if KEY.match(first):
                    unknown.add(first)
                continue
            entry = codes[first]
            if rule == "A2":
                entry["main_allowed"] = 0
            elif rule == "A4.1":
                entry["sex"] = "F"
            elif rule == "A4.2":
                entry["sex"] = "M"
            elif rule in AGE_RULES:
                entry["min_age_days"], entry["max_age_days"] = ("" if v is None else v for v in AGE_RULES[rule])
                entry["age_rule"] = rule
            else:
                raise SystemExit(f"unknown sub-appendix {rule!r} in sheet {name!r}")
    # A category (3 characters) takes the rule all its listed subcodes share: O80 is as female-only as
    # O80.0-O80.9, though the appendix lists only the subcodes.
    for key, entry in codes.items():
        children = [c for k, c in codes.items() if len(k) > len(key) and k.startswith(key)]
        for field in ("sex", "age_rule"):
            values = {c[field] for c in children}
            if children and not entry[field] and len(values) == 1 and "" not in values:
                entry[field] = values.pop()
                if field == "age_rule":
                    entry["min_age_days"], entry["max_age_days"] = (
                        children[0]["min_age_days"],
                        children[0]["max_age_days"],
                    )
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(next(iter(codes.values()))), lineterminator="\n")
    w.writeheader()
    w.writerows(codes[k] for k in sorted(codes))
    OUT.write_bytes(gzip.compress(buf.getvalue().encode("utf-8"), mtime=0))
    print(f"wrote {OUT.relative_to(ROOT)}: {len(codes)} codes; {len(unknown)} listed codes not in the main list")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_XLSX)
