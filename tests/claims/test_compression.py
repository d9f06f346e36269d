"""The claims store compressed: what is stored reads back exactly (the original bytes under their
SHA-256, the tables as intake read them), values stored before compression still read, and a claim
takes a few kilobytes instead of ~28 (issue 20's ≤ 5 KB)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, select, update

from bhyt.claims.compression import MAGIC, Kind, dictionaries, pack, unpack
from bhyt.claims.ingest import footprint, ingest_file, original_bytes
from bhyt.claims.lake import export_lake
from bhyt.claims.models import ClaimVersion, OriginalFile
from bhyt.db import connect
from tests.claims.test_parser import GOOD, GOOD2, envelope
from tests.test_cli import run


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    e = connect(db_url)
    yield e
    e.dispose()


@given(st.binary(max_size=5_000), st.sampled_from(list(Kind)))
def test_pack_then_unpack_is_the_identity(data: bytes, kind: Kind) -> None:
    packed = pack(data, kind)
    assert packed[:4] == MAGIC
    assert unpack(packed) == data


def test_values_stored_before_compression_read_as_they_are() -> None:
    assert unpack('{"XML1": []}') == b'{"XML1": []}'
    assert unpack(b"<GIAMDINHHS></GIAMDINHHS>") == b"<GIAMDINHHS></GIAMDINHHS>"


def test_every_frame_names_a_shipped_dictionary() -> None:
    import zstandard

    ids = set(dictionaries())
    for kind in Kind:
        assert zstandard.get_frame_parameters(pack(b"<XML1/>", kind)).dict_id in ids


def test_stored_compressed_and_read_back_exactly(engine: Engine, tmp_path: Path) -> None:
    data = envelope(GOOD, GOOD2)
    path = tmp_path / "a.xml"
    path.write_bytes(data)
    assert [r.status for r in ingest_file(engine, path, "en")] == ["accepted", "accepted"]
    with engine.connect() as conn:
        stored, size, sha = conn.execute(select(OriginalFile.data, OriginalFile.size, OriginalFile.sha256)).one()
        assert stored[:4] == MAGIC
        assert len(stored) < len(data)
        assert (size, sha) == (len(data), hashlib.sha256(data).hexdigest())
        assert all(t == "" for (t,) in conn.execute(select(ClaimVersion.tables)))  # the tables are in tables_zst
    assert original_bytes(engine, "92001", "LK1") == data
    lake = export_lake(engine, tmp_path / "x")
    assert lake["claims"] == 2


def test_versions_stored_as_text_before_still_export_and_compare(engine: Engine, tmp_path: Path) -> None:
    """A database written before compression: its versions' tables are text, its files plain bytes."""
    path = tmp_path / "a.xml"
    path.write_bytes(envelope(GOOD, GOOD2))
    ingest_file(engine, path, "en")
    with engine.begin() as conn:
        for vid, packed in conn.execute(select(ClaimVersion.id, ClaimVersion.tables_zst)).all():
            conn.execute(update(ClaimVersion).where(ClaimVersion.id == vid)
                         .values(tables=unpack(packed).decode(), tables_zst=None))  # fmt: skip
        for sha, packed in conn.execute(select(OriginalFile.sha256, OriginalFile.data)).all():
            conn.execute(update(OriginalFile).where(OriginalFile.sha256 == sha).values(data=unpack(packed)))
    assert original_bytes(engine, "92001", "LK1") == path.read_bytes()
    assert export_lake(engine, tmp_path / "x")["claims"] == 2
    assert [r.status for r in ingest_file(engine, path, "en")] == ["duplicate", "duplicate"]


def test_a_claim_takes_at_most_5_kb(db_url: str, tmp_path: Path) -> None:
    from bhyt.synth.run import SynthConfig, synthesize

    # a seed the dictionaries were not trained on (scripts/gen_zdict.py uses 4750)
    synthesize(SynthConfig(people=1_000, year=2025, seed=11, out=tmp_path / "n", formats=frozenset({"xml"})))
    assert run("ingest", str(tmp_path / "n" / "xml"), "--db", db_url)[0] == 0
    engine = connect(db_url)
    try:
        claims, size = footprint(engine)
    finally:
        engine.dispose()
    assert claims > 500
    assert size / claims <= 5 * 1024, f"{size / claims:,.0f} bytes a claim"


def test_a_store_written_before_compression_upgrades_in_place(db_url: str, tmp_path: Path) -> None:
    """A store at revision 0006 (text tables, plain files) with findings pointing at its versions: the
    upgrade adds a column, rebuilds nothing, and what it held still reads, exports and deduplicates."""
    from sqlalchemy import text

    from bhyt.db import make_engine, migrate

    old = make_engine(db_url)
    migrate(old, "0006")
    data = envelope(GOOD)
    tables = '{"XML1":[{"MA_CSKCB":"92001","MA_LK":"LK1","T_BHTT":"100.00"}],"XML2":[]}'
    with old.begin() as conn:
        conn.execute(text("insert into original_file values ('f0', 'a.xml', :n, '2025-01-01 00:00:00', :d)"),
                     {"n": len(data), "d": data})  # fmt: skip
        conn.execute(text("insert into claim (id, facility, ma_lk, status, current_version, created_at, updated_at) "
                          "values (1, '92001', 'LK1', 'active', 1, '2025-01-01', '2025-01-01')"))  # fmt: skip
        conn.execute(text("insert into claim_version (id, claim_id, version, content_sha256, file_sha256, hoso_index, "
                          "received_at, kind, tables, changes) values (1, 1, 1, 'c0', 'f0', 0, '2025-01-01', "
                          "'accepted', :t, '{}')"), {"t": tables})  # fmt: skip
        conn.execute(text("insert into claim_finding (version_id, table_name, row, field, code, message) "
                          "values (1, 'XML1', null, 'T_BHTT', 'field.format', 'x')"))  # fmt: skip
    old.dispose()
    engine = connect(db_url)  # upgrades to head
    try:
        assert original_bytes(engine, "92001", "LK1") == data
        assert export_lake(engine, tmp_path / "x")["claims"] == 1
        with engine.connect() as conn:
            assert conn.execute(text("select count(*) from claim_finding")).scalar_one() == 1
    finally:
        engine.dispose()
