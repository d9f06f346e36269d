"""Regenerate src/bhyt/policy/data/provinces.csv from the official administrative-unit list.

Reads the 63 provinces (codes and names) of ../shared/domain/reference/admin-units-2024-06-11.xlsx
and adds, for each, the province it belongs to in the 34-province map from 2025-07-01
(bhyt-spec §5.2: the merged province keeps the code of the old province where its centre sits;
which code survives is the spec's inference, consistent with all 34 codes).

Usage: .venv/bin/python scripts/gen_provinces.py [XLSX]
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import openpyxl

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_XLSX = ROOT.parent / "shared/domain/reference/admin-units-2024-06-11.xlsx"
OUT = ROOT / "src/bhyt/policy/data/provinces.csv"

# New (2025) code -> (new name, old codes merged into it), bhyt-spec §5.2.
MERGER_2025 = {
    "01": ("Thành phố Hà Nội", ["01"]),
    "04": ("Tỉnh Cao Bằng", ["04"]),
    "08": ("Tỉnh Tuyên Quang", ["08", "02"]),
    "11": ("Tỉnh Điện Biên", ["11"]),
    "12": ("Tỉnh Lai Châu", ["12"]),
    "14": ("Tỉnh Sơn La", ["14"]),
    "15": ("Tỉnh Lào Cai", ["10", "15"]),
    "19": ("Tỉnh Thái Nguyên", ["19", "06"]),
    "20": ("Tỉnh Lạng Sơn", ["20"]),
    "22": ("Tỉnh Quảng Ninh", ["22"]),
    "24": ("Tỉnh Bắc Ninh", ["27", "24"]),
    "25": ("Tỉnh Phú Thọ", ["25", "26", "17"]),
    "31": ("Thành phố Hải Phòng", ["31", "30"]),
    "33": ("Tỉnh Hưng Yên", ["33", "34"]),
    "37": ("Tỉnh Ninh Bình", ["37", "35", "36"]),
    "38": ("Tỉnh Thanh Hóa", ["38"]),
    "40": ("Tỉnh Nghệ An", ["40"]),
    "42": ("Tỉnh Hà Tĩnh", ["42"]),
    "44": ("Tỉnh Quảng Trị", ["45", "44"]),
    "46": ("Thành phố Huế", ["46"]),
    "48": ("Thành phố Đà Nẵng", ["48", "49"]),
    "51": ("Tỉnh Quảng Ngãi", ["51", "62"]),
    "52": ("Tỉnh Gia Lai", ["64", "52"]),
    "56": ("Tỉnh Khánh Hòa", ["56", "58"]),
    "66": ("Tỉnh Đắk Lắk", ["66", "54"]),
    "68": ("Tỉnh Lâm Đồng", ["68", "67", "60"]),
    "75": ("Tỉnh Đồng Nai", ["75", "70"]),
    "79": ("Thành phố Hồ Chí Minh", ["79", "74", "77"]),
    "80": ("Tỉnh Tây Ninh", ["72", "80"]),
    "82": ("Tỉnh Đồng Tháp", ["87", "82"]),
    "86": ("Tỉnh Vĩnh Long", ["86", "83", "84"]),
    "91": ("Tỉnh An Giang", ["89", "91"]),
    "92": ("Thành phố Cần Thơ", ["92", "94", "93"]),
    "96": ("Tỉnh Cà Mau", ["96", "95"]),
}


def main(xlsx: Path) -> None:
    wb = openpyxl.load_workbook(xlsx, read_only=True)
    names: dict[str, str] = {}
    for row in wb.worksheets[0].iter_rows(min_row=2, values_only=True):
        if row[2]:
            names.setdefault(str(row[2]).zfill(2), str(row[1]).strip())
    new_of = {old: new for new, (_, olds) in MERGER_2025.items() for old in olds}
    if set(new_of) != set(names) or len(names) != 63:
        sys.exit(f"the merger map does not cover the {len(names)} provinces of {xlsx}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["code", "name", "code_2025", "name_2025"])
        for code in sorted(names):
            w.writerow([code, names[code], new_of[code], MERGER_2025[new_of[code]][0]])
    print(f"wrote {OUT.relative_to(ROOT)}: {len(names)} provinces -> {len(MERGER_2025)} from 2025-07-01")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_XLSX)
