"""What an assessment reads: claims and lines in one canonical shape, whatever they came from.

Sources: a Parquet claims lake (``bhyt synth`` or ``bhyt export``), the ``--out`` folder of
``bhyt synth`` (lake, registry and catalogue found by themselves), or GIAMDINHHS XML files read
through the intake's parser. Every HOSO gets an input position (``seq``); HOSOs or files that
cannot be read are kept as ``invalid`` items at their position, so the output follows the input.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bhyt.claims.ingest import PreparedFile, prepare, prepare_many, reading_pool, tables_of
from bhyt.claims.records import ENGINE_TABLES, typed, untyped_claim
from bhyt.errors import BhytError

MONEY = pa.decimal128(18, 2)
AMOUNT = pa.decimal128(18, 3)
CLAIM_COLUMNS: dict[str, pa.DataType] = {
    "seq": pa.int64(),
    "occurrence": pa.int32(),
    "file": pa.string(),
    "facility": pa.string(),
    "claim_id": pa.string(),
    "card": pa.string(),
    "citizen_id": pa.string(),
    "birth_date": pa.date32(),
    "sex": pa.int8(),
    "registered_facility": pa.string(),
    "card_valid_from": pa.date32(),
    "card_valid_to": pa.date32(),
    "five_year_date": pa.date32(),
    "copay_exempt_from": pa.date32(),
    "living_area": pa.string(),
    "route_code": pa.string(),
    "referred_from": pa.string(),
    "referred_to": pa.string(),
    "visit_type": pa.string(),
    "main_diagnosis": pa.string(),
    "admitted_at": pa.timestamp("s"),
    "discharged_at": pa.timestamp("s"),
    "treatment_days": pa.int32(),
    "outcome": pa.string(),
    "discharge_type": pa.string(),
    "total": MONEY,
    "fund": MONEY,
    "facility_level": pa.string(),
}
LINE_COLUMNS: dict[str, pa.DataType] = {
    "facility": pa.string(),
    "claim_id": pa.string(),
    "occurrence": pa.int32(),
    "table": pa.string(),
    "line_no": pa.int32(),
    "item_code": pa.string(),
    "cost_group": pa.string(),
    "scope": pa.string(),
    "quantity": AMOUNT,
    "unit_price": AMOUNT,
    "insured_price": AMOUNT,
    "item_rate": pa.int32(),
    "service_rate": pa.int32(),
    "benefit_rate": pa.decimal128(7, 2),
    "total": MONEY,
    "insured": MONEY,
    "other_sources": MONEY,
    "outside": MONEY,
    "copay": MONEY,
    "fund": MONEY,
    "supply_package": pa.string(),
    "ordered_at": pa.timestamp("s"),
}


# Claims paid in earlier runs (``--db``): their MA_LK and the duplicate key (GDH 61).
HISTORY_COLUMNS: dict[str, pa.DataType] = {
    k: CLAIM_COLUMNS[k]
    for k in ("facility", "claim_id", "card", "admitted_at", "discharged_at", "main_diagnosis", "total", "fund")
}


class InputError(BhytError, ValueError):
    """A path that is not something ``bhyt assess`` can read."""

    code = "assessment.input"


@dataclass(frozen=True)
class Invalid:
    """A HOSO (or a whole file) that could not be read: its place in the output and why."""

    seq: int
    file: str
    facility: str | None
    claim_id: str | None
    code: str
    message: str


@dataclass
class Batch:
    """Claims and lines as Arrow tables (canonical columns) or Parquet globs, plus what came with them."""

    claims: pa.Table | str
    lines: pa.Table | str
    invalid: list[Invalid] = field(default_factory=list)
    intake: dict[int, list[tuple[str, str, str, int | None, str]]] = field(default_factory=dict)
    items: pa.Table | None = None  # catalogue: code, table, group, min_level, item_rate, sex, ages, part_of
    prices: pa.Table | None = None  # facility, item_code, price
    facilities: pa.Table | None = None  # code, level, and contract_from, contract_to when known
    history: pa.Table | None = None  # claims paid in earlier runs: claim_id and the duplicate key

    @property
    def has_catalogue(self) -> bool:
        return self.items is not None and self.prices is not None

    @property
    def has_registry(self) -> bool:
        return self.facilities is not None


def _parquet(folder: Path) -> str | None:
    parts = sorted(folder.glob("*.parquet"))
    return str(folder / "*.parquet") if parts else None


def load(
    paths: Sequence[Path],
    registry: Path | None = None,
    catalogue: Path | None = None,
    workers: int = 0,
    lang: str = "vi",
) -> Batch:
    """Read the claims at ``paths`` and the optional registry and catalogue folders."""
    lakes = [p for p in paths if _lake_of(p) is not None]
    if lakes and len(lakes) != len(paths):
        raise InputError("give either one claims lake or XML files and folders, not both")
    if len(lakes) > 1:
        raise InputError("give one claims lake at a time")
    if lakes:
        root = lakes[0]
        lake = _lake_of(root)
        assert lake is not None
        claims, lines = _parquet(lake / "claims"), _parquet(lake / "lines")
        if claims is None or lines is None:
            raise InputError(f"{lake}: the lake has no claims or no lines")
        batch = Batch(claims, lines, invalid=_refused(lake, lang))
        synth = root if (root / "catalogue").is_dir() else None
        registry = registry or (synth / "registry" if synth else None)
        catalogue = catalogue or (synth / "catalogue" if synth else None)
    else:
        batch = read_xml(paths, workers, lang)
    if catalogue is not None:
        items, prices = catalogue / "items.parquet", catalogue / "price_list.parquet"
        if not items.exists() or not prices.exists():
            raise InputError(f"{catalogue}: expected items.parquet and price_list.parquet")
        batch.items, batch.prices = pq.read_table(items), pq.read_table(prices)
    if registry is not None:
        facilities = registry / "facilities.parquet"
        if not facilities.exists():
            raise InputError(f"{registry}: expected facilities.parquet")
        schema = pq.read_schema(facilities)
        # The contract columns when the registry holds them (older registry folders do not: no contract rule).
        wanted = ["code", "level", *(c for c in ("contract_from", "contract_to") if c in schema.names)]
        batch.facilities = pq.read_table(facilities, columns=wanted).combine_chunks()  # one chunk: Spark's memtable
    return batch


REFUSED_SEQ = 2**30  # the lake's refused claims come after its claims (seq is stored as a 32-bit integer)


def _refused(lake: Path, lang: str) -> list[Invalid]:
    """The claims export refused (a value that does not type): each answered ``invalid``, saying where."""
    parts = sorted((lake / "refused").glob("*.parquet"))
    rows = [r for p in parts for r in pq.read_table(p).to_pylist()]
    template = UNTYPED.get(lang, UNTYPED["en"])
    return [Invalid(REFUSED_SEQ + i, str(lake), r["facility"], r["claim_id"], "value.untyped",
                    template.format(where=r["where"])) for i, r in enumerate(rows)]  # fmt: skip


def _lake_of(path: Path) -> Path | None:
    """The lake folder (holding claims/ and lines/) a path names, if it names one."""
    for candidate in (path, path / "lake"):
        if (candidate / "claims").is_dir() and (candidate / "lines").is_dir():
            return candidate
    return None


def xml_files(paths: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(q for q in p.rglob("*") if q.suffix.lower() == ".xml" and q.is_file())
        elif p.exists():
            out.append(p)
        else:
            raise InputError(f"{p}: no such file or folder")
    return out


def read_xml(paths: Sequence[Path], workers: int = 0, lang: str = "vi") -> Batch:
    """Read GIAMDINHHS files with the intake's parser and checks; unreadable HOSOs become ``Invalid``."""
    files = xml_files(paths)
    pool = reading_pool(workers)
    try:
        prepared: Iterable[PreparedFile] = (
            pool.map(prepare_many, files, lang) if pool else (prepare(f, lang) for f in files)
        )
        return _batch_of(prepared, lang)
    finally:
        if pool:
            pool.shutdown()


def _batch_of(prepared: Iterable[PreparedFile], lang: str = "vi") -> Batch:
    seq = 0
    invalid: list[Invalid] = []
    intake: dict[int, list[tuple[str, str, str, int | None, str]]] = {}
    rows: dict[str, list[dict[str, str]]] = {name: [] for name in ENGINE_TABLES}
    keys: dict[str, list[tuple[int, int, str]]] = {name: [] for name in ENGINE_TABLES}
    seen: dict[tuple[str, str], int] = {}
    files: list[str] = []
    for f in prepared:
        if f.rejected or not f.hosos:
            first = f.findings[0] if f.findings else None
            invalid.append(
                Invalid(
                    seq,
                    f.file,
                    f.facility,
                    None,
                    first.code if first else "file.unreadable",
                    first.message if first else "the file holds no HOSO",
                )
            )
            seq += 1
            continue
        for h in f.hosos:
            if h.rejected or h.withdrawal:
                first = h.findings[0] if h.findings else None
                code = "claim.withdrawn" if h.withdrawal else (first.code if first else "hoso.unreadable")
                message = "MA_DOITUONG_KCB 8 withdraws the claim" if h.withdrawal else (first.message if first else "")
                invalid.append(Invalid(seq, f.file, f.facility, h.ma_lk, code, message))
                seq += 1
                continue
            assert f.facility is not None
            assert h.ma_lk is not None
            tables: dict[str, Any] = tables_of(h)
            where = untyped_claim(tables)
            if where is not None:  # a value the engine cannot type: that claim is invalid, the run goes on
                message = UNTYPED.get(lang, UNTYPED["en"]).format(where=where)
                invalid.append(Invalid(seq, f.file, f.facility, h.ma_lk, "value.untyped", message))
                seq += 1
                continue
            occurrence = seen[(f.facility, h.ma_lk)] = seen.get((f.facility, h.ma_lk), 0) + 1
            for name in rows:
                for record in tables.get(name, []):
                    rows[name].append(record)
                    keys[name].append((seq, occurrence, f.facility))
            files.append(f.file)
            intake[seq] = [(x.code, x.table or "XML1", x.field or "", x.row, x.message) for x in h.findings]
            seq += 1
    claims = _with_keys(typed("XML1", rows["XML1"]), keys["XML1"])
    claims = claims.append_column("seq", pa.array([k[0] for k in keys["XML1"]], pa.int64()))
    claims = claims.append_column("file", pa.array(files, pa.string()))
    parts = [
        _with_keys(typed(name, rows[name]), keys[name]).append_column("table", pa.array([name] * len(rows[name])))
        for name in ("XML2", "XML3")
    ]
    lines = pa.concat_tables(parts, promote_options="permissive")
    return Batch(canonical(claims, CLAIM_COLUMNS), canonical(lines, LINE_COLUMNS), invalid, intake)


UNTYPED = {
    "vi": "giá trị không đúng kiểu hoặc vượt giới hạn của chuẩn dữ liệu: {where}",
    "en": "not a number or date within the standard's size: {where}",
}


def _with_keys(table: pa.Table, keys: list[tuple[int, int, str]]) -> pa.Table:
    """Add the sending facility and the occurrence of (facility, MA_LK) in the input."""
    if "facility" in table.column_names:
        table = table.drop_columns("facility")
    table = table.append_column("facility", pa.array([k[2] for k in keys], pa.string()))
    table = table.append_column("occurrence", pa.array([k[1] for k in keys], pa.int32()))
    return table


def canonical(table: pa.Table, columns: dict[str, pa.DataType]) -> pa.Table:
    """The columns the engine reads, cast to one type each (codes as strings); missing ones null."""
    out = {}
    if "item_code" in columns and "supply_code" in table.column_names:  # XML3 supplies carry MA_VAT_TU instead
        code = pc.if_else(pc.equal(table.column("item_code"), ""), None, table.column("item_code"))
        table = table.set_column(table.column_names.index("item_code"), "item_code",
                                 pc.coalesce(code, table.column("supply_code")))  # fmt: skip
    for name, type_ in columns.items():
        if name in table.column_names:
            col = table.column(name)
            if pa.types.is_integer(col.type) and pa.types.is_string(type_):
                col = col.cast(pa.string())
            out[name] = col.cast(type_)
        else:
            out[name] = pa.nulls(table.num_rows, type_)
    return pa.table(out)
