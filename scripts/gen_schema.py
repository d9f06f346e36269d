"""Regenerate src/bhyt/claims/schema_4750.json from the official QĐ 4750 field appendix and a hospital
software vendor's validation checklist (which fields are required, and its per-field validity note).

For every table (check-in = XML0, Bảng 1–15 = XML1–XML15) it reads each field's name, QĐ 130 type
and maximum size, and applies the 4750 amendment written beside it: "Đổi kiểu dữ liệu thành chuỗi"
(now a string), "Tăng kích thước tối đa lên N" (new size), "Bổ sung trường mới" or a field without
an order number (new in 4750). Decimal places follow the standard's rounding rules (bhyt-spec §1.5):
amounts 2, unit prices and quantities 3. Later decisions that widen a field are listed in LATER.

Usage: .venv/bin/python scripts/gen_schema.py [APPENDIX_XLSX [CHECKLIST_XLSX]]
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import openpyxl

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_XLSX = ROOT.parent / "shared/domain/reference/qd4750-appendix-fields.xlsx"
DEFAULT_CHECKS = ROOT.parent / "shared/domain/reference/qd4750-validation-checks.xlsx"
OUT = ROOT / "src/bhyt/claims/schema_4750.json"

# Amendments after 4750 that the appendix cannot show: (table, field) -> (size, decimals, source).
# MUC_HUONG grows to 4 characters so that a rate such as 47.5 (95% card × 50% route) fits.
LATER = {
    ("XML2", "MUC_HUONG"): (4, 2, "QĐ 1931/QĐ-BYT, from 2026-07-01"),
    ("XML3", "MUC_HUONG"): (4, 2, "QĐ 1931/QĐ-BYT, from 2026-07-01"),
}
FIELD = re.compile(r"^[A-Z][A-Z0-9_]*$")
GROW = re.compile(r"[Tt]ăng kích thước tối đa lên (\d+)")


def scale_of(name: str, kind: str) -> int | None:
    if kind != "number":
        return None
    if name.startswith(("T_", "THANH_TIEN")):
        return 2
    if name.startswith("DON_GIA") or name == "SO_LUONG":
        return 3
    return 0


def table_code(title: str) -> str:
    if "Check-in" in title:
        return "XML0"
    match = re.search(r"Bang (\d+)", title)
    if not match:
        raise SystemExit(f"unexpected sheet {title!r}")
    return f"XML{match.group(1)}"


def checklist(xlsx: Path) -> dict[tuple[str, str], tuple[bool, str]]:
    """(table, field) -> (required, validity note) from the vendor checklist, its columns found by header."""
    out: dict[tuple[str, str], tuple[bool, str]] = {}
    for ws in openpyxl.load_workbook(xlsx, read_only=True).worksheets:
        code = table_code(ws.title.strip().replace("bang", "Bang"))
        required, valid = 5, None
        for row in ws.iter_rows(values_only=True):
            cells = [str(c or "").strip() for c in row]
            if "Chỉ tiêu" in cells:
                required = cells.index("Bắt buộc")
                valid = cells.index("VALID") if "VALID" in cells else None
                continue
            name = cells[1] if len(cells) > 1 else ""
            if FIELD.match(name):
                note = " ".join(cells[valid].split())[:300] if valid is not None and valid < len(cells) else ""
                out[(code, name)] = (cells[required].lower() == "x", note)
    return out


def main(xlsx: Path, checks_xlsx: Path) -> None:
    checks = checklist(checks_xlsx)
    wb = openpyxl.load_workbook(xlsx, read_only=True)
    tables: dict[str, dict[str, object]] = {}
    for ws in wb.worksheets:
        rows = list(ws.iter_rows(values_only=True))
        code = table_code(ws.title)
        fields = []
        for row in rows[2:]:
            name = str(row[1] or "").strip()
            if not FIELD.match(name):
                continue
            amendment = str(row[5] or "") if len(row) > 5 else ""
            kind = "string" if str(row[2]).strip().startswith("Chuỗi") else "number"
            if "thành chuỗi" in amendment:
                kind = "string"
            size_text = str(row[3]).strip()
            size = None if size_text == "n" else int(size_text)
            if grow := GROW.search(amendment):
                size = int(grow.group(1))
            note, scale = "", scale_of(name, kind)
            if (code, name) in LATER:
                size, scale, note = LATER[(code, name)]
            fields.append(
                {
                    "name": name,
                    "type": kind,
                    "size": size,
                    "scale": scale,
                    "new_in_4750": row[0] is None or "Bổ sung trường mới" in amendment,
                    "required": checks.get((code, name), (False, ""))[0],
                    "check": checks.get((code, name), (False, ""))[1],
                    "description": " ".join(str(row[4] or "").split())[:300],
                    "amended": note or " ".join(amendment.split())[:200],
                }
            )
        names = [f["name"] for f in fields]
        if len(names) != len(set(names)):
            raise SystemExit(f"{code}: a field appears twice")
        tables[code] = {"title": " ".join(str(rows[0][0]).split())[:200], "fields": fields}
    OUT.write_text(json.dumps(tables, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}: " + ", ".join(f"{k} {len(v['fields'])}" for k, v in tables.items()))


if __name__ == "__main__":
    args = [Path(a) for a in sys.argv[1:3]]
    main(*args, *(DEFAULT_XLSX, DEFAULT_CHECKS)[len(args) :])
