"""Regenerate src/bhyt/refdata/communes.csv.gz: the 10,601 communes (code, district, province) of the
official administrative-unit list of 11/06/2024. The 3,321 post-2025 commune codes are not in any
reference file here, so residence uses these codes (the standard keeps the 5-digit commune field).

Usage: .venv/bin/python scripts/gen_communes.py [XLSX]
"""

from __future__ import annotations

import csv
import gzip
import io
import sys
from pathlib import Path

import openpyxl

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_XLSX = ROOT.parent / "shared/domain/reference/admin-units-2024-06-11.xlsx"
OUT = ROOT / "src/bhyt/refdata/communes.csv.gz"


def main(xlsx: Path) -> None:
    wb = openpyxl.load_workbook(xlsx, read_only=True)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["commune", "district", "province", "name"])
    count = 0
    for row in wb.worksheets[0].iter_rows(min_row=2, values_only=True):
        if row[6]:
            w.writerow([str(row[6]).zfill(5), str(row[4]).zfill(3), str(row[2]).zfill(2), str(row[5]).strip()])
            count += 1
    OUT.write_bytes(gzip.compress(buf.getvalue().encode("utf-8"), mtime=0))
    print(f"wrote {OUT.relative_to(ROOT)}: {count} communes")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_XLSX)
