"""Typed records and the export of stored claims to the Parquet lake the assessment reads."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bhyt.claims import schema
from bhyt.claims.records import TYPED_TABLES, typed
from bhyt.synth.run import SynthConfig, synthesize
from tests.test_cli import run


def test_every_field_of_the_typed_tables_has_an_english_name_and_kind() -> None:
    for table in TYPED_TABLES:
        named = schema.english(table)
        assert [n.field for n in named] == list(schema.field_names(table))
        assert len({n.english for n in named}) == len(named)
        assert {n.kind for n in named} <= set(schema.KINDS)


def test_text_becomes_typed_values() -> None:
    record = {"MA_LK": "LK1", "MA_THE_BHYT": "DN4010123456789;GD4010123456789", "GT_THE_TU": "20250101;20250701",
              "MATINH_CU_TRU": "01", "GIOI_TINH": "2", "T_BHTT": "123456.50", "NGAY_VAO": "202501310815",
              "NGAY_SINH": "199000000000", "SO_NGAY_DTRI": "x"}  # fmt: skip
    row = typed("XML1", [record]).to_pylist()[0]
    assert row["card"] == "DN4010123456789;GD4010123456789"  # every card kept as sent
    assert row["card_valid_from"] == dt.date(2025, 1, 1)  # dates from the first card
    assert row["province"] == "01"  # codes keep their leading zeros
    assert (row["sex"], row["fund"]) == (2, Decimal("123456.50"))
    assert row["admitted_at"] == dt.datetime(2025, 1, 31, 8, 15)  # noqa: DTZ001 - wall time, as sent
    assert row["birth_date"] is None  # month and day unknown
    assert row["treatment_days"] is None  # not a number: intake keeps the finding
    assert row["name"] is None  # absent


def test_exported_lake_matches_the_synthetic_lake(tmp_path: Path) -> None:
    synthesize(SynthConfig(people=200, year=2025, seed=11, out=tmp_path / "n", formats=frozenset({"xml", "parquet"})))
    db = f"sqlite:///{tmp_path / 'c.db'}"
    assert run("ingest", str(tmp_path / "n" / "xml"), "--db", db)[0] == 0
    assert run("export", "--db", db, "--out", str(tmp_path / "x"))[0] == 0
    for dataset, key in (("claims", ["claim_id"]), ("lines", ["claim_id", "table", "line_no"])):
        order = [(k, "ascending") for k in key]
        exported = pq.read_table(tmp_path / "x" / "lake" / dataset).sort_by(order)
        synthetic = pq.read_table(tmp_path / "n" / "lake" / dataset).sort_by(order)
        assert exported.num_rows == synthetic.num_rows > 0
        if dataset == "lines":  # XML3 keeps a supply's code and name apart from the service's
            exported = exported.set_column(
                exported.column_names.index("item_code"), "item_code",
                pc.coalesce(exported["item_code"], exported["supply_code"]),
            )  # fmt: skip
            exported = exported.set_column(
                exported.column_names.index("name"), "name", pc.coalesce(exported["name"], exported["supply_name"])
            )
            xml3 = pc.equal(synthetic["table"], "XML3")
            exported, synthetic = exported.filter(xml3), synthetic.filter(xml3)  # drug lines have no DON_GIA_BH
        common = [c for c in synthetic.column_names if c in exported.column_names]
        assert len(common) >= (35 if dataset == "claims" else 20)
        for column in common:
            ours = exported[column]
            theirs = synthetic[column].cast(ours.type)
            if pa.types.is_string(ours.type):
                theirs = pc.if_else(pc.equal(theirs, ""), pa.scalar(None, pa.string()), theirs)
            assert ours.equals(theirs), column
