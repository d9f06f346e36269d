"""Intake into the store on SQLite and PostgreSQL: idempotent, versioned, traceable, never lossy."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from bhyt.claims import ingest
from bhyt.claims.ingest import Receipt, ingest_file, ingest_paths, original_bytes, reading_pool
from bhyt.claims.models import Claim, ClaimFinding, ClaimVersion
from bhyt.db import connect
from tests.claims.test_parser import GOOD, GOOD2, XML1, XML2, envelope, inner
from tests.test_cli import run


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    e = connect(db_url)
    yield e
    e.dispose()


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def statuses(engine: Engine, path: Path) -> list[str]:
    return [r.status for r in ingest_file(engine, path, "en")]


def test_accept_duplicate_new_version_withdraw(engine: Engine, tmp_path: Path) -> None:
    first = write(tmp_path, "a.xml", envelope(GOOD, GOOD2))
    assert statuses(engine, first) == ["accepted", "accepted"]
    assert statuses(engine, first) == ["duplicate", "duplicate"]  # the same file again changes nothing
    changed = [("XML1", inner("XML1", XML1.replace("100.00", "90.00"))), GOOD[1]]
    assert statuses(engine, write(tmp_path, "b.xml", envelope(changed))) == ["new_version"]
    withdraw = [("XML1", inner("XML1", XML1.replace("</TONG_HOP>", "<MA_DOITUONG_KCB>8</MA_DOITUONG_KCB></TONG_HOP>")))]
    assert statuses(engine, write(tmp_path, "c.xml", envelope(withdraw))) == ["withdrawn"]
    assert statuses(engine, write(tmp_path, "d.xml", envelope(withdraw))) == ["rejected"]  # nothing left to withdraw
    with Session(engine) as s:
        claim = s.scalars(select(Claim).where(Claim.ma_lk == "LK1")).one()
        assert (claim.status, claim.current_version) == ("withdrawn", 3)
        versions = s.scalars(
            select(ClaimVersion).where(ClaimVersion.claim_id == claim.id).order_by(ClaimVersion.version)
        ).all()
        assert [v.kind for v in versions] == ["accepted", "new_version", "withdrawn"]
        assert json.loads(versions[1].changes)["XML1"]["T_BHTT"] == ["100.00", "90.00"]
        assert s.scalar(select(func.count()).select_from(Claim)) == 2


def test_each_version_traces_back_to_its_bytes(engine: Engine, tmp_path: Path) -> None:
    data = envelope(GOOD)
    ingest_file(engine, write(tmp_path, "a.xml", data))
    assert original_bytes(engine, "92001", "LK1") == data


def test_one_bad_hoso_never_blocks_the_others(engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path, "mixed.xml", envelope(GOOD, [("XML1", "%%%")], GOOD2))
    assert statuses(engine, path) == ["accepted", "rejected", "accepted"]
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Claim)) == 2


def test_format_findings_are_kept_with_the_claim(engine: Engine, tmp_path: Path) -> None:
    bad = [("XML1", inner("XML1", XML1.replace("100.00", "1OO"))), GOOD[1]]
    receipts = ingest_file(engine, write(tmp_path, "a.xml", envelope(bad)), "en")
    assert receipts[0].status == "accepted"  # a warning, for the assessment to weigh
    with Session(engine) as s:
        codes = set(s.scalars(select(ClaimFinding.code)).all())
    assert "field.format" in codes


def test_unreadable_and_hostile_files_are_rejected_whole(engine: Engine, tmp_path: Path) -> None:
    (r,) = ingest_file(engine, tmp_path / "missing.xml", "en")
    assert (r.ma_lk, r.status, r.findings[0].code) == (None, "rejected", "file.unreadable")
    xxe = write(
        tmp_path, "xxe.xml", b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><GIAMDINHHS>&e;</GIAMDINHHS>'
    )
    (r,) = ingest_file(engine, xxe, "en")
    assert (r.status, r.findings[0].code) == ("rejected", "xml.dtd")


def test_ingest_command_json_lines_contract(db_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    write(folder, "1.xml", envelope(GOOD, [("XML1", "%%%")]))
    write(folder, "2.xml", b"not xml")
    code, out = run("ingest", str(folder), "--db", db_url, "--json", "--lang", "en")
    assert code == 0, out
    objects = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert [(o["file"].rsplit("/", 1)[1], o["ma_lk"], o["status"]) for o in objects] == [
        ("1.xml", "LK1", "accepted"),
        ("1.xml", None, "rejected"),
        ("2.xml", None, "rejected"),
    ]
    for o in objects:
        assert set(o) == {"file", "ma_lk", "facility", "status", "findings"}
        for f in o["findings"]:
            assert set(f) == {"file", "hoso_index", "ma_lk", "table", "row", "field", "code", "message"}
    assert objects[2]["findings"][0]["code"] == "xml.syntax"


def test_ingest_a_synthetic_province(engine: Engine, db_url: str, tmp_path: Path) -> None:
    from bhyt.synth.run import SynthConfig, synthesize

    summary = synthesize(SynthConfig(people=300, year=2025, seed=3, out=tmp_path / "n", formats=frozenset({"xml"})))
    code, out = run("ingest", str(tmp_path / "n" / "xml"), "--db", db_url, "--json")
    assert code == 0
    objects = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert len(objects) == summary["visits"]
    assert {o["status"] for o in objects} == {"accepted"}
    assert all(o["findings"] == [] for o in objects)


def test_xml2_line_for_another_claim_is_a_kept_warning(engine: Engine, tmp_path: Path) -> None:
    hoso = [GOOD[0], ("XML2", inner("XML2", XML2.format(ma_lk="LK9")))]
    (r,) = ingest_file(engine, write(tmp_path, "a.xml", envelope(hoso)), "en")
    assert r.status == "accepted"
    assert [f.code for f in r.findings if f.code != "field.required"] == ["line.ma_lk"]


def test_one_batch_decides_in_input_order(engine: Engine, tmp_path: Path) -> None:
    changed = [("XML1", inner("XML1", XML1.replace("100.00", "90.00"))), GOOD[1]]
    withdraw = [("XML1", inner("XML1", XML1.replace("</TONG_HOP>", "<MA_DOITUONG_KCB>8</MA_DOITUONG_KCB></TONG_HOP>")))]
    paths = [write(tmp_path, f"{i}.xml", envelope(h)) for i, h in enumerate([GOOD, GOOD, changed, withdraw, withdraw])]
    paths.insert(2, write(tmp_path, "copy.xml", envelope(GOOD2, GOOD)))  # a new claim and a known one
    receipts = [r.status for rs in ingest_paths(engine, paths, "en") for r in rs]
    assert receipts == ["accepted", "duplicate", "accepted", "duplicate", "new_version", "withdrawn", "rejected"]
    with Session(engine) as s:
        versions = s.scalars(select(ClaimVersion.kind).order_by(ClaimVersion.id)).all()
    assert versions == ["accepted", "accepted", "new_version", "withdrawn"]


def test_worker_processes_answer_as_one_process(tmp_path: Path) -> None:
    from bhyt.synth.run import SynthConfig, synthesize

    synthesize(SynthConfig(people=150, year=2025, seed=5, out=tmp_path / "n", formats=frozenset({"xml"})))
    files = sorted((tmp_path / "n" / "xml").rglob("*.xml"))
    answers = []
    for workers in (0, 2):
        engine, pool = connect(f"sqlite:///{tmp_path / f'w{workers}.db'}"), reading_pool(workers)
        answers.append([r.as_json() for rs in ingest_paths(engine, files, pool=pool, batch_claims=50) for r in rs])
        engine.dispose()
        if pool is not None:
            pool.shutdown()
    assert answers[0] == answers[1]
    assert len(answers[0]) >= len(files)


def test_a_file_that_cannot_be_stored_is_rejected_and_the_rest_stored(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = ingest.store_batch

    def failing(conn: Connection, files: Sequence[ingest.PreparedFile], lang: str = "vi") -> list[list[Receipt]]:
        if any(f.file.endswith("bad.xml") for f in files):
            raise DataError("INSERT …", {}, ValueError("value too long for type character varying(5)"))
        return real(conn, files, lang)

    monkeypatch.setattr(ingest, "store_batch", failing)
    paths = [write(tmp_path, "a.xml", envelope(GOOD)), write(tmp_path, "bad.xml", envelope(GOOD2)),
             write(tmp_path, "c.xml", envelope([("XML1", inner("XML1", XML1.replace("LK1", "LK3")))]))]  # fmt: skip
    receipts = [r for rs in ingest_paths(engine, paths, "en") for r in rs]
    assert [(r.ma_lk, r.status) for r in receipts] == [("LK1", "accepted"), ("LK2", "rejected"), ("LK3", "accepted")]
    assert receipts[1].findings[-1].code == "storage.failed"
    assert "value too long" in receipts[1].findings[-1].message
    with Session(engine) as s:
        assert set(s.scalars(select(Claim.ma_lk)).all()) == {"LK1", "LK3"}
