"""The 63 provinces (codes used on cards, in facility codes and in MATINH_CU_TRU) and the
34-province map from 2025-07-01. Data: ``data/provinces.csv``, made by ``scripts/gen_provinces.py``.

Facility codes and BHXH numbers keep their old province digits after the merger; a card issued
after it may carry the new code. So card validation accepts the union of old and new codes, and
the current province is never derived from a BHXH number or a facility code (bhyt-spec §5.3).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).parent / "data" / "provinces.csv"


@dataclass(frozen=True)
class Province:
    code: str  # 2 digits, QĐ 124/2004/QĐ-TTg
    name: str
    code_2025: str  # the province it is part of from 2025-07-01
    name_2025: str


@cache
def provinces() -> dict[str, Province]:
    """The 63 pre-merger provinces by code."""
    with DATA.open(encoding="utf-8") as f:
        return {row["code"]: Province(**row) for row in csv.DictReader(f)}


def province_codes() -> frozenset[str]:
    """Every valid administrative province code, old or new (the 34 new codes are all old codes)."""
    return frozenset(provinces())


def current_codes() -> frozenset[str]:
    """The 34 provinces since 2025-07-01 (Resolution 202/2025/QH15)."""
    return frozenset(p.code_2025 for p in provinces().values())


def merged_code(code: str) -> str:
    """The 2025 province a pre-merger province code belongs to.

    >>> merged_code("94")  # Sóc Trăng is part of Cần Thơ
    '92'
    """
    return provinces()[code].code_2025
