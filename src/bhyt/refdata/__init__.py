"""Reference lists the package owns, generated from the official workbooks by ``scripts/``:
the Ministry's ICD-10 list (QĐ 4469) and the communes of the administrative-unit list."""

from __future__ import annotations

import csv
import gzip
import io
from functools import cache
from pathlib import Path

import pyarrow as pa

HERE = Path(__file__).parent


def _read(name: str) -> list[dict[str, str]]:
    text = gzip.decompress((HERE / name).read_bytes()).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@cache
def icd10_rows() -> tuple[dict[str, str], ...]:
    """The ICD-10 list as read (text columns), for lookups that need no table."""
    return tuple(_read("icd10.csv.gz"))


@cache
def icd10() -> pa.Table:
    """The ICD-10 list: code, key, chapter, name_vi, main_allowed, sex, min/max_age_days, age_rule."""
    rows = icd10_rows()
    return pa.table(
        {
            "code": [r["code"] for r in rows],
            "key": [r["key"] for r in rows],
            "chapter": [r["chapter"] for r in rows],
            "name_vi": [r["name_vi"] for r in rows],
            "main_allowed": [r["main_allowed"] == "1" for r in rows],
            "sex": [r["sex"] or None for r in rows],
            "min_age_days": pa.array([int(r["min_age_days"]) if r["min_age_days"] else None for r in rows], pa.int32()),
            "max_age_days": pa.array([int(r["max_age_days"]) if r["max_age_days"] else None for r in rows], pa.int32()),
            "age_rule": [r["age_rule"] or None for r in rows],
        }
    )


@cache
def communes() -> pa.Table:
    """Communes of the 2024 administrative-unit list: commune, district, province (old code), name."""
    rows = _read("communes.csv.gz")
    return pa.table({k: [r[k] for r in rows] for k in ("commune", "district", "province", "name")})
