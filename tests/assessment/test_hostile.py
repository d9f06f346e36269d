"""Hostile values in every numeric and date field: the engine gets each value typed or refused. A claim
holding one that does not type is `invalid` with its located finding, and every other claim of the run
is decided exactly as without it — no traceback, no run lost (issue 22)."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bhyt.assessment.engine import assess
from bhyt.assessment.inputs import load
from bhyt.assessment.outcome import objects
from bhyt.claims.records import columns, typed, untyped
from bhyt.policy.params import default_parameters
from bhyt.synth.run import SynthConfig, synthesize

# Values a hostile or broken sender writes in a number or a date.
HOSTILE = ("1e308", "-1e308", "9" * 40, "Infinity", "-Infinity", "NaN", "sNaN", "99999999", "999999999999",
           "1e-999999", "0E20", "0x10", "１２", "5,5", " 5", "--1", "1_000", "20250230", "202502301200",
           "18991231")  # fmt: skip
ROW = re.compile(rb"<LOAIHOSO>([^<]*)</LOAIHOSO>\s*<NOIDUNGFILE>([^<]*)</NOIDUNGFILE>")


def typed_fields(table: str) -> list[str]:
    return [name for name, _, kind, _ in columns(table) if str(kind) != "string"]


def _with_value(envelope: bytes, table: str, field: str, value: str) -> bytes | None:
    """The envelope with ``field`` of the first row of ``table`` set to ``value`` (None: no such row)."""
    done = False

    def put(m: re.Match[bytes]) -> bytes:
        nonlocal done
        doc = base64.b64decode(m.group(2))
        if not done and m.group(1).decode() == table:
            open_, close = f"<{field}>".encode(), f"</{field}>".encode()
            if open_ in doc:
                doc = re.sub(open_ + b"[^<]*" + close, open_ + value.encode() + close, doc, count=1)
                done = True
        return m.group(0).replace(m.group(2), base64.b64encode(doc))

    out = ROW.sub(put, envelope)
    return out if done else None


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    out = tmp_path_factory.mktemp("hostile") / "nation"
    synthesize(SynthConfig(people=400, year=2025, seed=22, out=out, provinces=["92"], formats=frozenset({"xml"})))
    return sorted((out / "xml").rglob("*.xml"))


def _card(envelope: bytes) -> bytes:
    m = ROW.search(envelope)
    assert m is not None
    found = re.search(rb"<MA_THE_BHYT>([^<;]*)", base64.b64decode(m.group(2)))
    assert found is not None
    return found.group(1)


def test_every_hostile_value_in_every_field_is_refused_alone(files: list[Path], tmp_path: Path) -> None:
    """One run over clean files plus one copy of a one-HOSO file per (field, hostile value): the copies
    that hold a value that does not type are invalid, and the clean claims are decided as without them."""
    single = next(f for f in files if f.read_bytes().count(b"<HOSO>") == 1)
    clean = [f for f in files if f != single][:30]
    card = _card(single.read_bytes()).decode()
    variants: dict[str, tuple[str, str, str]] = {}
    for table in ("XML1", "XML2", "XML3"):
        for field in typed_fields(table):
            for i, value in enumerate(HOSTILE):
                changed = _with_value(single.read_bytes(), table, field, value)
                if changed is not None:
                    path = tmp_path / f"{table}-{field}-{i}.xml"
                    path.write_bytes(changed)
                    variants[str(path)] = (table, field, value)
    assert len({(t, f) for t, f, _ in variants.values()}) >= 40  # most typed fields are on the sample HOSO
    params = default_parameters()
    before = load(clean, lang="en")
    baseline = {(r["file"], r["claim_id"]): r for r in objects(before, assess(before, params), "en")}
    batch = load([*clean, *map(Path, variants)], lang="en")
    results = list(objects(batch, assess(batch, params), "en"))  # one run over all of them: it must not fail
    refused = 0
    for r in results:
        if r["file"] in variants:
            table, field, value = variants[r["file"]]
            if untyped(table, [{field: value}]):
                refused += 1
                assert r["status"] == "invalid", (table, field, value, r)
                assert r["findings"][0]["rule"] == "value.untyped"
                assert f"{table} row 1 {field}=" in r["findings"][0]["message"]
        elif r["card"] != card:  # the copies share one card: its other claims meet them in cross-claim checks
            assert r == baseline[(r["file"], r["claim_id"])]
    assert refused > len(variants) / 2
    fields = len({(t, f) for t, f, _ in variants.values()})
    print(f"{len(variants)} hostile values over {fields} fields, {refused} refused")
    assert sum(r["file"] not in variants for r in results) == len(baseline)


@given(st.sampled_from(["XML1", "XML2", "XML3"]), st.data())
def test_typing_never_raises(table: str, data: st.DataObject) -> None:
    field = data.draw(st.sampled_from(typed_fields(table)))
    value = data.draw(
        st.one_of(
            st.sampled_from(HOSTILE),
            st.text(max_size=60),
            st.from_regex(r"-?[0-9]{0,30}(\.[0-9]{0,30})?([eE]-?[0-9]{1,6})?", fullmatch=True),
        )
    )
    record = {field: value}
    english = {name: eng for name, eng, _, _ in columns(table)}[field]
    got = typed(table, [record]).column(english)[0].as_py()  # never raises
    # typed and untyped agree: a value is null exactly when it is named as not typing
    assert (value != "" and got is None) == bool(untyped(table, [record]))


def test_the_lake_path_refuses_them_too(files: list[Path], tmp_path: Path, db_url: str) -> None:
    """Ingest → export → assess, as make demo runs it: a stored claim holding 1e308 is not exported as a
    null quantity but refused, and the assessment answers it invalid, saying where."""
    from bhyt.claims.lake import export_lake
    from bhyt.db import connect
    from tests.test_cli import run

    single = next(f for f in files if f.read_bytes().count(b"<HOSO>") == 1)
    hostile = _with_value(single.read_bytes(), "XML3", "SO_LUONG", "1e308")
    assert hostile is not None
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "hostile.xml").write_bytes(hostile)
    for f in files[:10]:
        if f != single:
            (tmp_path / "in" / f.name).write_bytes(f.read_bytes())
    assert run("ingest", str(tmp_path / "in"), "--db", db_url)[0] == 0
    engine = connect(db_url)
    try:
        counts = export_lake(engine, tmp_path / "x")
    finally:
        engine.dispose()
    assert counts["refused"] == 1
    batch = load([tmp_path / "x" / "lake"], lang="en")
    rows = list(objects(batch, assess(batch, default_parameters()), "en"))
    (bad,) = [r for r in rows if r["status"] == "invalid"]
    assert bad["findings"][0]["rule"] == "value.untyped"
    assert "XML3 row 1 SO_LUONG='1e308'" in bad["findings"][0]["message"]
    assert len(rows) == counts["claims"] + 1
