"""Store claims durably and idempotently, and answer each HOSO with a receipt.

The key of a claim is (facility, MA_LK). An identical resubmission changes nothing ("duplicate"); a
changed one becomes a new version with what changed ("new_version"); MA_DOITUONG_KCB "8" withdraws the
claim ("withdrawn"); a HOSO that cannot be decoded, parsed or identified is "rejected" and stored
nowhere, while the others of the same file go on. The original bytes are kept under their SHA-256.

Speed without giving up durability: files are read and checked in worker processes (:func:`prepare`
is pure), and the main process stores them in batches — a few hundred files in one transaction, set
based (one query per batch to learn what is known, bulk inserts). A receipt is only given once the
transaction holding its claim is committed, so a crash at any point loses nothing acknowledged.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple, TypeVar, cast

import orjson
from sqlalchemy import Connection, Engine, Table, bindparam, func, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from bhyt.claims import fhir
from bhyt.claims.compression import Kind, pack, unpack
from bhyt.claims.messages import render
from bhyt.claims.models import Claim, ClaimFinding, ClaimVersion, OriginalFile
from bhyt.claims.parser import Finding, Limits, read_envelope, warm
from bhyt.claims.pool import ReadingPool

T = TypeVar("T")
STATUSES = ("accepted", "duplicate", "new_version", "withdrawn", "rejected")
WITHDRAWAL = "8"
_CLAIM, _VERSION, _FINDING, _FILE = (
    cast(Table, m.__table__) for m in (Claim, ClaimVersion, ClaimFinding, OriginalFile)
)


@dataclass(frozen=True)
class Receipt:
    """The answer for one HOSO (or for a file that could not be read at all: ``ma_lk`` None)."""

    file: str
    ma_lk: str | None
    facility: str | None
    status: str
    findings: tuple[Finding, ...]

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "ma_lk": self.ma_lk, "facility": self.facility, "status": self.status,
                "findings": [f.as_dict() for f in self.findings]}  # fmt: skip


class PreparedHoso(NamedTuple):
    """One HOSO read and checked, ready to store: its tables as canonical JSON, compressed (they cross
    processes and reach the database as they are; :func:`tables_of` reads them), and that JSON's digest.

    Named tuples, as PreparedFile: they cross from the reading processes, and a tuple pickles in a third
    of a dataclass's time."""

    hoso_index: int
    ma_lk: str | None
    withdrawal: bool
    tables_zst: bytes
    content_sha256: str
    findings: tuple[Finding, ...]
    rejected: bool


class PreparedFile(NamedTuple):
    """One file read and checked; ``data`` (its bytes compressed, ``size`` long before) is kept only
    when something of it will be stored, under ``sha256`` of the bytes as sent."""

    file: str
    facility: str | None
    data: bytes
    sha256: str
    findings: tuple[Finding, ...]
    rejected: bool
    hosos: tuple[PreparedHoso, ...]
    size: int = 0

    @property
    def claims(self) -> int:
        return max(1, len(self.hosos))


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tables_of(h: PreparedHoso) -> dict[str, list[dict[str, str]]]:
    """A prepared HOSO's tables, by the standard's table and field names."""
    tables: dict[str, list[dict[str, str]]] = orjson.loads(unpack(h.tables_zst))
    return tables


def prepare_bytes(data: bytes, file: str, lang: str = "vi", limits: Limits | None = None) -> PreparedFile:
    """Read and check one file's bytes (no database): what :func:`store_batch` needs, picklable."""
    env = read_envelope(data, file, lang, limits)
    if env.rejected:
        return PreparedFile(file, env.facility, b"", "", tuple(env.findings), True, ())
    facility = env.facility or ""
    hosos = []
    for hoso in env.hosos:
        findings = [*env.findings, *hoso.findings]
        if hoso.rejected:
            hosos.append(PreparedHoso(hoso.index, hoso.ma_lk, False, b"", "", tuple(findings), True))
            continue
        head = hoso.tables["XML1"][0]
        if head.get("MA_CSKCB") and head["MA_CSKCB"] != facility:
            message = render("claim.facility_mismatch", lang, found=head["MA_CSKCB"], facility=facility)
            findings.append(
                Finding(file, hoso.index, hoso.ma_lk, "XML1", None, "MA_CSKCB", "claim.facility_mismatch", message)
            )
        canonical = orjson.dumps(hoso.tables, option=orjson.OPT_SORT_KEYS)
        hosos.append(
            PreparedHoso(
                hoso.index,
                hoso.ma_lk,
                head.get("MA_DOITUONG_KCB") == WITHDRAWAL,
                pack(canonical, Kind.TABLES),
                _sha256(canonical),
                tuple(findings),
                False,
            )
        )
    if not any(not h.rejected for h in hosos):
        return PreparedFile(file, facility, b"", "", tuple(env.findings), False, tuple(hosos))
    return PreparedFile(file, facility, pack(data, Kind.FILE), _sha256(data), tuple(env.findings), False, tuple(hosos),
                        len(data))  # fmt: skip


def prepare_fhir(data: bytes, file: str, lang: str = "vi", limits: Limits | None = None) -> PreparedFile:
    """A FHIR Claim (or Bundle) read onto the XML records and checked the same way; the JSON bytes are kept."""
    try:
        facility, records = fhir.tables(data)
    except fhir.FhirError as exc:
        finding = Finding(file, None, None, None, None, exc.path, "fhir.invalid",
                          render("fhir.invalid", lang, path=exc.path, reason=exc.message))  # fmt: skip
        return PreparedFile(file, None, b"", "", (finding,), True, ())
    prepared = prepare_bytes(fhir.envelope(facility, records), file, lang, limits)
    if not prepared.sha256:
        return prepared
    return prepared._replace(data=pack(data, Kind.FILE), sha256=_sha256(data), size=len(data))


def prepare(path: Path, lang: str = "vi", limits: Limits | None = None) -> PreparedFile:
    """Read and check one file (``*.json``: a FHIR Claim or Bundle); an unreadable file is rejected saying why."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        finding = Finding(str(path), None, None, None, None, None, "file.unreadable",
                          render("file.unreadable", lang, reason=exc.strerror or str(exc)))  # fmt: skip
        return PreparedFile(str(path), None, b"", "", (finding,), True, ())
    if path.suffix.lower() == ".json":
        return prepare_fhir(data, str(path), lang, limits)
    return prepare_bytes(data, str(path), lang, limits)


def prepare_many(paths: Sequence[Path], lang: str = "vi", limits: Limits | None = None) -> list[PreparedFile]:
    """:func:`prepare` over a part of the files: the unit of work of a reading process."""
    return [prepare(p, lang, limits) for p in paths]


def _changes(old: dict[str, list[dict[str, str]]], new: dict[str, list[dict[str, str]]]) -> dict[str, Any]:
    """What a new version changes: XML1 fields one by one, other tables by their rows."""
    out: dict[str, Any] = {}
    for table in sorted(set(old) | set(new)):
        a, b = old.get(table, []), new.get(table, [])
        if a == b:
            continue
        if table == "XML1" and a and b:
            out[table] = {k: [a[0].get(k, ""), b[0].get(k, "")] for k in sorted(set(a[0]) | set(b[0]))
                          if a[0].get(k, "") != b[0].get(k, "")}  # fmt: skip
        else:
            out[table] = {"rows": [len(a), len(b)], "changed": sum(1 for x, y in zip(a, b, strict=False) if x != y)}
    return out


@dataclass
class _State:
    """What the store knows of one claim while a batch is decided (``id`` None: new in this batch)."""

    id: int | None
    status: str
    version: int
    content: str
    tables: bytes | str | None = None  # stored form; loaded only when a changed version needs the old content
    touched: bool = False


@dataclass
class _Batch:
    versions: list[tuple[_State, dict[str, Any], tuple[Finding, ...]]] = field(default_factory=list)
    new_claims: list[tuple[tuple[str, str], _State]] = field(default_factory=list)


def _chunked(values: Iterable[T], size: int = 500) -> Iterator[list[T]]:
    """``values`` in lists of ``size`` (the last shorter): IN lists of a bounded length, work units."""
    it = iter(values)
    while chunk := list(islice(it, size)):
        yield chunk


def _known(conn: Connection, keys: set[tuple[str, str]]) -> dict[tuple[str, str], _State]:
    """The stored state of the claims among ``keys``: one query per 500 MA_LK."""
    out: dict[tuple[str, str], _State] = {}
    facilities = sorted({f for f, _ in keys})
    c, v = _CLAIM.c, _VERSION.c
    for part in _chunked(sorted({m for _, m in keys})):
        rows = conn.execute(
            select(c.id, c.facility, c.ma_lk, c.status, c.current_version, v.content_sha256)
            .join(_VERSION, (v.claim_id == c.id) & (v.version == c.current_version))
            .where(c.ma_lk.in_(part), c.facility.in_(facilities))
        )
        for claim_id, facility, ma_lk, status, version, content in rows:
            if (facility, ma_lk) in keys:
                out[facility, ma_lk] = _State(claim_id, status, version, content)
    return out


def _old_tables(conn: Connection, state: _State) -> dict[str, list[dict[str, str]]]:
    if state.tables is None:
        v = _VERSION.c
        state.tables = stored_tables(
            *conn.execute(
                select(v.tables_zst, v.tables).where(v.claim_id == state.id, v.version == state.version)
            ).one()
        )
    result: dict[str, list[dict[str, str]]] = orjson.loads(unpack(state.tables))
    return result


def stored_tables(packed: bytes | None, text: str) -> bytes | str:
    """A version's tables as stored: compressed, or (versions stored before compression) as text."""
    return packed if packed is not None else text


def store_batch(conn: Connection, files: Sequence[PreparedFile], lang: str = "vi",
                now: datetime | None = None) -> list[list[Receipt]]:  # fmt: skip
    """Store prepared files inside the caller's transaction; per file, its receipts in HOSO order.

    Set based: one query learns which claims and files are known, the decisions are made in input order
    (a claim sent twice in one batch is a duplicate the second time), then each table gets one bulk insert.
    """
    now = now or datetime.now()  # noqa: DTZ005 - facility-local time, as the standard's own timestamps
    keys = {(f.facility or "", h.ma_lk or "") for f in files for h in f.hosos if not h.rejected}
    states = _known(conn, keys)
    shas = sorted({f.sha256 for f in files if f.sha256})
    seen_files = {
        s for part in _chunked(shas) for s in conn.scalars(select(_FILE.c.sha256).where(_FILE.c.sha256.in_(part)))
    }
    batch = _Batch()
    out: list[list[Receipt]] = []
    new_files = []
    for f in files:
        if f.rejected:
            out.append([Receipt(f.file, None, f.facility, "rejected", f.findings)])
            continue
        if f.sha256 and f.sha256 not in seen_files:
            new_files.append({"sha256": f.sha256, "name": f.file, "size": f.size, "received_at": now,
                              "data": f.data})  # fmt: skip
            seen_files.add(f.sha256)
        out.append([_decide(conn, f, h, states, batch, lang) for h in f.hosos])
    if new_files:
        _insert_many(conn, _FILE, new_files)
    _write(conn, batch, now)
    return out


def _decide(conn: Connection, f: PreparedFile, h: PreparedHoso, states: dict[tuple[str, str], _State],
            batch: _Batch, lang: str) -> Receipt:  # fmt: skip
    """The status of one HOSO against what is known, recording the version it adds (if any)."""
    facility, ma_lk = f.facility or "", h.ma_lk or ""
    findings = h.findings
    if h.rejected:
        return Receipt(f.file, h.ma_lk, f.facility, "rejected", findings)
    key = (facility, ma_lk)
    state = states.get(key)
    if h.withdrawal:
        if state is None or state.status == "withdrawn":
            message = render("claim.withdraw_unknown", lang, ma_lk=ma_lk, facility=facility)
            finding = Finding(f.file, h.hoso_index, ma_lk, "XML1", None, "MA_DOITUONG_KCB", "claim.withdraw_unknown",
                              message)  # fmt: skip
            return Receipt(f.file, ma_lk, facility, "rejected", (*findings, finding))
        status, changes = "withdrawn", dict[str, Any]()
    elif state is None:
        state = states[key] = _State(None, "active", 0, "")
        batch.new_claims.append((key, state))
        status, changes = "accepted", {}
    elif state.content == h.content_sha256 and state.status == "active":
        return Receipt(f.file, ma_lk, facility, "duplicate", findings)
    else:
        status, changes = "new_version", _changes(_old_tables(conn, state), tables_of(h))
    state.status = "withdrawn" if status == "withdrawn" else "active"
    state.version += 1
    state.content, state.tables, state.touched = h.content_sha256, h.tables_zst, True
    row = {"version": state.version, "content_sha256": h.content_sha256, "file_sha256": f.sha256,
           "hoso_index": h.hoso_index, "kind": status, "tables": "", "tables_zst": h.tables_zst,
           "changes": json.dumps(changes, ensure_ascii=False) if changes else "{}"}  # fmt: skip
    batch.versions.append((state, row, findings))
    return Receipt(f.file, ma_lk, facility, status, findings)


def _write(conn: Connection, batch: _Batch, now: datetime) -> None:
    """Bulk inserts (executemany; ids read back in one query per 500 keys): new claims, versions,
    findings; then the new state of the claims that were already stored."""
    if batch.new_claims:
        rows = [{"facility": k[0], "ma_lk": k[1], "status": s.status, "current_version": s.version,
                 "created_at": now, "updated_at": now} for k, s in batch.new_claims]  # fmt: skip
        _insert_many(conn, _CLAIM, rows)
        ids = _ids(conn, [k for k, _ in batch.new_claims])
        for key, state in batch.new_claims:
            state.id = ids[key]
    created = {id(s) for _, s in batch.new_claims}
    changed = {id(s): s for s, _, _ in batch.versions if id(s) not in created}
    if changed:
        updates = [{"claim_id": s.id, "status": s.status, "current_version": s.version, "updated_at": now}
                   for s in changed.values()]  # fmt: skip
        conn.execute(update(_CLAIM).where(_CLAIM.c.id == bindparam("claim_id")), updates)
    if not batch.versions:
        return
    rows = [{**row, "claim_id": s.id, "received_at": now} for s, row, _ in batch.versions]
    _insert_many(conn, _VERSION, rows)
    wanted: set[tuple[int, int]] = {
        (cast(int, s.id), row["version"]) for s, row, findings in batch.versions if findings
    }
    if not wanted:
        return
    v, version_ids = _VERSION.c, {}
    for part in _chunked(sorted({claim_id for claim_id, _ in wanted})):
        for version_id, claim_id, number in conn.execute(
            select(v.id, v.claim_id, v.version).where(v.claim_id.in_(part))
        ):
            if (claim_id, number) in wanted:
                version_ids[claim_id, number] = version_id
    _insert_many(conn, _FINDING, [
        {"version_id": version_ids[s.id, row["version"]], "table_name": x.table, "row": x.row, "field": x.field,
         "code": x.code, "message": x.message}
        for s, row, findings in batch.versions for x in findings
    ])  # fmt: skip


def _insert_many(
    conn: Connection, table: Table, rows: list[dict[str, Any]], utf8: frozenset[str] = frozenset()
) -> None:
    """One executemany through the driver: SQLAlchemy's per-row parameter processing cost more than
    SQLite's own work for these bulk inserts. Values are plain (text, int, bytes, None, datetime); the
    text columns in ``utf8`` are given as UTF-8 bytes, which the database reads as text (no str is made)."""
    if not rows:
        return
    names = list(rows[0])
    quote = conn.dialect.identifier_preparer.quote
    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    as_text = "CAST({} AS TEXT)" if conn.dialect.name == "sqlite" else "convert_from({}, 'UTF8')"
    values = ", ".join(as_text.format(marker) if n in utf8 else marker for n in names)
    sql = f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) VALUES ({values})"
    params = list(map(itemgetter(*names), rows)) if len(names) > 1 else [(r[names[0]],) for r in rows]
    stamps = [i for i, n in enumerate(names) if isinstance(rows[0][n], datetime)]
    if stamps and conn.dialect.name == "sqlite":  # as SQLAlchemy's SQLite DATETIME stores them
        text: dict[datetime, str] = {}

        def stored(p: tuple[Any, ...]) -> tuple[Any, ...]:
            values = list(p)
            for i in stamps:
                if p[i] is not None:
                    values[i] = text.get(p[i]) or text.setdefault(p[i], p[i].strftime("%Y-%m-%d %H:%M:%S.%f"))
            return tuple(values)

        params = list(map(stored, params))
    conn.exec_driver_sql(sql, params)


def _ids(conn: Connection, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """The ids of the stored claims ``keys`` (facility, MA_LK); both columns in the query, so it is
    answered from their unique index rather than by a scan."""
    wanted, out = set(keys), {}
    facilities = sorted({f for f, _ in keys})
    c = _CLAIM.c
    for part in _chunked(sorted({m for _, m in keys})):
        query = select(c.id, c.facility, c.ma_lk).where(c.ma_lk.in_(part), c.facility.in_(facilities))
        for claim_id, facility, ma_lk in conn.execute(query):
            if (facility, ma_lk) in wanted:
                out[facility, ma_lk] = claim_id
    return out


def commit_batch(engine: Engine, files: Sequence[PreparedFile], lang: str = "vi") -> list[list[Receipt]]:
    """Store ``files`` in one transaction and return their receipts once it is committed.

    A concurrent writer that stored one of the same claims first makes the insert conflict: the batch is
    decided again against the new state. A batch that fails for its data is split until the one file that
    cannot be stored is found; that file is rejected with the reason and the others are stored. A database
    that cannot be reached or written raises: nothing is acknowledged that was not committed.
    """
    for _ in range(3):
        try:
            with engine.begin() as conn:
                return store_batch(conn, files, lang)
        except IntegrityError:
            continue
        except OperationalError:
            raise
        except SQLAlchemyError as exc:
            if len(files) > 1:
                half = len(files) // 2
                return commit_batch(engine, files[:half], lang) + commit_batch(engine, files[half:], lang)
            return [_storage_failed(files[0], exc, lang)]
    with engine.begin() as conn:  # a fourth conflict in a row: one file at a time, without retries
        return [r for f in files for r in store_batch(conn, [f], lang)]


def _storage_failed(f: PreparedFile, exc: SQLAlchemyError, lang: str) -> list[Receipt]:
    cause = getattr(exc, "orig", None) or exc
    reason = f"{type(cause).__name__}: {(str(cause).splitlines() or [''])[0][:200]}"
    finding = Finding(f.file, None, None, None, None, None, "storage.failed", render("storage.failed", lang,
                                                                                     reason=reason))  # fmt: skip
    return [Receipt(f.file, h.ma_lk, f.facility, "rejected", (*h.findings, finding)) for h in f.hosos] or [
        Receipt(f.file, None, f.facility, "rejected", (*f.findings, finding))
    ]


def reading_pool(workers: int) -> ReadingPool | None:
    """Processes that read and check files for :func:`ingest_paths` (None for ``workers`` < 1), with the
    schema, checks and reference lists loaded first so that they share them.

    Forked, so create it before any thread starts (a progress bar's, say). Each worker dies with this
    process and never holds its stdout: a receipt stream ends when the ingest ends, killed or not.
    """
    if workers < 1:
        return None
    warm()
    return ReadingPool(workers)


def _prepared(paths: Iterable[Path], lang: str, limits: Limits | None, pool: ReadingPool | None,
              ahead: int) -> Iterator[PreparedFile]:  # fmt: skip
    """Files read and checked in order, by the pool's processes (None: in this one), about ``ahead`` files
    ahead, so the workers go on reading while this process commits a batch."""
    if pool is None:
        return (prepare(p, lang, limits) for p in paths)
    chunk = 16  # files per unit of work
    return pool.map(prepare_many, paths, lang, limits, chunk=chunk, ahead=max(4, ahead // chunk // pool.workers))


def ingest_paths(engine: Engine, paths: Iterable[Path], lang: str = "vi", limits: Limits | None = None,
                 pool: ReadingPool | None = None, batch_claims: int = 1000,
                 max_wait: float = 1.0) -> Iterator[list[Receipt]]:  # fmt: skip
    """Ingest files in order; per file, its receipts, yielded only after their transaction committed.

    A batch closes at ``batch_claims`` HOSO or ``max_wait`` seconds after it opened, whichever comes first.
    """
    pending: list[PreparedFile] = []
    claims, opened = 0, time.monotonic()
    for f in _prepared(paths, lang, limits, pool, 2 * batch_claims):
        if not pending:
            opened = time.monotonic()
        pending.append(f)
        claims += f.claims
        if claims >= batch_claims or time.monotonic() - opened >= max_wait:
            yield from commit_batch(engine, pending, lang)
            pending, claims = [], 0
    if pending:
        yield from commit_batch(engine, pending, lang)


def ingest_file(engine: Engine, path: Path, lang: str = "vi", limits: Limits | None = None) -> list[Receipt]:
    """Read, check and store one file in one transaction; receipts only after the commit."""
    return commit_batch(engine, [prepare(path, lang, limits)], lang)[0]


STORE_TABLES = ("claim", "claim_version", "claim_finding", "original_file")


def footprint(engine: Engine) -> tuple[int, int]:
    """(claims stored, bytes the claims store takes on disk with its indexes): what a national year
    would cost. SQLite counts its pages (the dbstat table), PostgreSQL its relations."""
    with engine.connect() as conn:
        claims = int(conn.execute(select(func.count()).select_from(_CLAIM)).scalar_one())
        if conn.dialect.name == "sqlite":
            names = ", ".join(f"'{t}'" for t in STORE_TABLES)
            size = conn.execute(text(
                f"SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name IN ({names}) OR name IN "
                f"(SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name IN ({names}))"
            )).scalar_one()  # fmt: skip
        else:
            size = sum(conn.execute(text("SELECT pg_total_relation_size(:t)"), {"t": t}).scalar_one()
                       for t in STORE_TABLES)  # fmt: skip
    return claims, int(size)


def original_bytes(engine: Engine, facility: str, ma_lk: str, version: int | None = None) -> bytes:
    """The bytes of the file a stored claim (its current version, or ``version``) came from."""
    c, v = _CLAIM.c, _VERSION.c
    with engine.connect() as conn:
        claim_id, current = conn.execute(
            select(c.id, c.current_version).where(c.facility == facility, c.ma_lk == ma_lk)
        ).one()
        sha = conn.execute(
            select(v.file_sha256).where(v.claim_id == claim_id, v.version == (version or current))
        ).scalar_one()
        data: bytes = conn.execute(select(_FILE.c.data).where(_FILE.c.sha256 == sha)).scalar_one()
    return unpack(data)
