"""Benchmark of the assessment engine: lines/s with the full catalogue, against baselines in the same run.

Measured on one synthetic batch (a nation sized to about ``--lines`` lines), each timing covering
reading the batch, the rules, the amounts and per-line results written to Parquet:

- engine, full catalogue (DuckDB);
- engine, a core subset of rules (dates, card validity, duplicate lines, beds on outpatient visits);
- hand-written DuckDB SQL for that subset, amounts at the submitted rate (the floor);
- the per-claim reference evaluator (on a sample of claims, scaled per line);
- an ORM-style check: SQLAlchemy on SQLite, one query per object, the subset's rules in Python (sample);
- the full catalogue on PySpark in local mode (its start-up timed apart), printed beside the ratios.

Ratios are "times faster": vs_sql = engine on the subset / SQL; vs_reference and vs_orm = full engine /
that baseline. Usage: bench/assess.py [--lines N] [--sample N] [--spark-lines N] [--no-spark] [--nation DIR]. Last line:
RESULT lines_per_s=<n> vs_sql=<ratio> vs_reference=<ratio> vs_orm=<ratio> peak_rss_gib=<x>
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import tempfile
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import ForeignKey, Numeric, String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from bhyt.assessment.backends import Engine, connect
from bhyt.assessment.catalogue import BY_CODE
from bhyt.assessment.engine import assess
from bhyt.assessment.inputs import Batch, load
from bhyt.assessment.reference import assess_reference
from bhyt.policy.params import default_parameters
from bhyt.synth.run import SynthConfig, synthesize

SUBSET = ("card.not_yet_valid", "card.expired", "dates.discharge_before_admission", "dates.line_outside_episode",
          "line.duplicate", "bed.outpatient")  # fmt: skip
SQL = """
create or replace table c as select row_number() over () - 1 as seq, * from read_parquet('{claims}');
create or replace table l as select * from read_parquet('{lines}');
create or replace table f as
  select seq, 'card.not_yet_valid' rule, null::int line from c where admitted_at::date < card_valid_from
  union all select seq, 'card.expired', null from c where admitted_at::date > card_valid_to
  union all select seq, 'dates.discharge_before_admission', null from c where discharged_at < admitted_at
  union all select c.seq, 'dates.line_outside_episode', l.line_no from l join c using (facility, claim_id)
    where l.ordered_at < c.admitted_at or l.ordered_at > c.discharged_at
  union all select seq, 'line.duplicate', line_no from (select c.seq, l.line_no, row_number() over (
    partition by c.seq, l."table", l.item_code, l.ordered_at, l.quantity, l.unit_price order by l.line_no) r
    from l join c using (facility, claim_id)) where r > 1
  union all select c.seq, 'bed.outpatient', l.line_no from l join c using (facility, claim_id)
    where l.cost_group in ('14', '15') and c.visit_type not in ('03', '04', '06', '09');
copy (select c.seq, l."table", l.line_no,
        round(l.quantity::decimal(38, 3) * l.unit_price * coalesce(l.service_rate, 100) / 100, 2) as total,
        case when rc.seq is null and rl.line is null then
          round(round(l.quantity::decimal(38, 3) * l.unit_price * l.item_rate * coalesce(l.service_rate, 100)
                      / 10000, 2)
                * l.benefit_rate / 100, 2) else 0 end as fund
      from l join c using (facility, claim_id)
      left join (select distinct seq from f where line is null) rc on rc.seq = c.seq
      left join (select distinct seq, line from f where line is not null) rl on rl.seq = c.seq and rl.line = l.line_no)
  to '{out}' (format parquet);
"""


def timed(label: str, fn: object) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    elapsed = time.perf_counter() - start
    print(f"{label:<34} {elapsed:8.2f} s")
    return elapsed


class Base(DeclarativeBase):
    pass


class OrmClaim(Base):
    __tablename__ = "claim"
    seq: Mapped[int] = mapped_column(primary_key=True)
    admitted_at: Mapped[datetime]
    discharged_at: Mapped[datetime]
    card_valid_from: Mapped[datetime | None]
    card_valid_to: Mapped[datetime | None]
    visit_type: Mapped[str] = mapped_column(String(2))


class OrmLine(Base):
    __tablename__ = "line"
    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(ForeignKey("claim.seq"), index=True)
    table: Mapped[str] = mapped_column(String(4))
    line_no: Mapped[int]
    item_code: Mapped[str | None] = mapped_column(String(50))
    cost_group: Mapped[str | None] = mapped_column(String(3))
    quantity: Mapped[Decimal] = mapped_column(Numeric(18, 3))
    unit_price: Mapped[Decimal] = mapped_column(Numeric(18, 3))
    ordered_at: Mapped[datetime | None]


def orm_check(claims: list[dict[str, object]], lines: list[dict[str, object]], db: Path) -> tuple[float, int]:
    """Load a sample into SQLite, then check it claim by claim, one query per object."""
    engine = create_engine(f"sqlite:///{db}")
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        s.add_all(OrmClaim(**c) for c in claims)  # type: ignore[arg-type]
        s.add_all(OrmLine(**ln) for ln in lines)  # type: ignore[arg-type]
        s.commit()
    found = 0
    start = time.perf_counter()
    with Session(engine) as s:
        for c in claims:
            claim = s.get(OrmClaim, c["seq"])
            assert claim is not None
            if claim.card_valid_to is not None and claim.admitted_at > claim.card_valid_to:
                found += 1
            ids = s.scalars(select(OrmLine.id).where(OrmLine.seq == claim.seq)).all()
            seen = set()
            for i in ids:  # one query per line, as an ORM page does
                line = s.get(OrmLine, i)
                assert line is not None
                key = (line.table, line.item_code, line.ordered_at, line.quantity, line.unit_price)
                found += key in seen
                seen.add(key)
                if line.ordered_at is not None and not claim.admitted_at <= line.ordered_at <= claim.discharged_at:
                    found += 1
    elapsed = time.perf_counter() - start
    engine.dispose()
    return elapsed, found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=10_000_000, help="about this many lines")
    ap.add_argument("--sample", type=int, default=2_000, help="claims for the reference and ORM baselines")
    ap.add_argument("--spark-lines", type=int, default=1_000_000, help="about this many lines for PySpark")
    ap.add_argument("--no-spark", action="store_true", help="skip the PySpark run")
    ap.add_argument("--nation", type=Path, help="a `bhyt synth --out` folder to measure instead of a new one")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-assess-"))
    params = default_parameters()
    try:
        nation = args.nation or work / "n"
        if args.nation is None:
            synthesize(SynthConfig(people=max(2_000, args.lines // 12), year=2025, seed=21, out=nation))
        batch = load([nation])
        n_lines = pq.ParquetDataset(str(nation / "lake" / "lines")).read(columns=["line_no"]).num_rows
        n_claims = pq.ParquetDataset(str(nation / "lake" / "claims")).read(columns=["claim_id"]).num_rows
        print(f"batch: {n_claims:,} claims, {n_lines:,} lines")

        def run_engine(rules: tuple[str, ...] | None, out: str, con: object = None) -> None:
            chosen = tuple(BY_CODE[r] for r in rules) if rules else None
            if chosen is None:
                result = assess(batch, params, con=con)  # type: ignore[arg-type]
            else:
                result = assess(batch, params, rules=chosen, after=(), con=con)  # type: ignore[arg-type]
            pq.write_table(result.lines, work / out)

        full = timed("engine, full catalogue", lambda: run_engine(None, "full.parquet"))
        subset = timed("engine, core subset", lambda: run_engine(SUBSET, "subset.parquet"))
        lake = nation / "lake"
        sql = SQL.format(claims=lake / "claims" / "*.parquet", lines=lake / "lines" / "*.parquet",
                         out=work / "sql.parquet")  # fmt: skip
        floor = timed("hand-written SQL, core subset", lambda: duckdb.connect().execute(sql))

        sample, sample_lines = first_claims(lake, args.sample)
        small = Batch(sample, sample_lines, items=batch.items, prices=batch.prices, facilities=batch.facilities)
        reference = timed(f"reference, {args.sample:,} claims", lambda: assess_reference(small, params))
        seq = {k: i for i, k in enumerate(zip(sample.column("facility").to_pylist(),
                                              sample.column("claim_id").to_pylist(), strict=True))}  # fmt: skip
        orm_claims = [
            {"seq": i, "admitted_at": r["admitted_at"], "discharged_at": r["discharged_at"],
             "card_valid_from": _dt(r["card_valid_from"]), "card_valid_to": _dt(r["card_valid_to"]),
             "visit_type": r["visit_type"]}
            for i, r in enumerate(sample.to_pylist())
        ]  # fmt: skip
        orm_lines = [
            {"seq": seq[(r["facility"], r["claim_id"])], "table": r["table"], "line_no": r["line_no"],
             "item_code": r["item_code"], "cost_group": r["cost_group"], "quantity": r["quantity"],
             "unit_price": r["unit_price"], "ordered_at": r["ordered_at"]}
            for r in sample_lines.to_pylist()
        ]  # fmt: skip
        orm, _ = orm_check(orm_claims, orm_lines, work / "orm.db")
        print(f"{'ORM per object, ' + format(args.sample, ',') + ' claims':<34} {orm:8.2f} s")
        spark = {}
        if not args.no_spark:
            box: list[object] = []
            start_s = timed("Spark start-up (local)", lambda: box.append(connect(Engine.SPARK)))
            part = max(1, n_claims * args.spark_lines // n_lines)
            c, ls = first_claims(lake, part)
            for name, table in (("claims", c), ("lines", ls)):
                (work / "spark" / name).mkdir(parents=True)
                pq.write_table(table, work / "spark" / name / "part.parquet")
            on_spark = Batch(str(work / "spark" / "claims" / "*.parquet"), str(work / "spark" / "lines" / "*.parquet"),
                             items=batch.items, prices=batch.prices, facilities=batch.facilities)  # fmt: skip

            def run_spark() -> None:
                pq.write_table(assess(on_spark, params, con=box[0]).lines, work / "spark.parquet")  # type: ignore[arg-type]

            spark_s = timed(f"Spark, full catalogue, {ls.num_rows:,} lines", run_spark)
            spark = {"spark_start_s": round(start_s, 2), "spark_lines_per_s": round(ls.num_rows / spark_s)}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rate = n_lines / full
    ref_rate = sample_lines.num_rows / reference
    orm_rate = sample_lines.num_rows / orm
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(json.dumps({"lines": n_lines, "engine_s": round(full, 2), "subset_s": round(subset, 2),
                      "sql_s": round(floor, 2), "reference_lines_per_s": round(ref_rate),
                      "orm_lines_per_s": round(orm_rate), **spark}))  # fmt: skip
    print(
        f"RESULT lines_per_s={rate:.0f} vs_sql={floor / subset:.3f} vs_reference={rate / ref_rate:.1f} "
        f"vs_orm={rate / orm_rate:.1f} peak_rss_gib={peak:.2f}"
    )


def first_claims(lake: Path, n: int) -> tuple[pa.Table, pa.Table]:
    """The lake's first ``n`` claims (input order) and their lines."""
    claims = pa.concat_tables(pq.read_table(p) for p in sorted((lake / "claims").glob("*.parquet"))).slice(0, n)
    keys = set(zip(claims.column("facility").to_pylist(), claims.column("claim_id").to_pylist(), strict=True))
    lines = pq.ParquetDataset(str(lake / "lines")).read()
    mask = [k in keys for k in zip(lines.column("facility").to_pylist(), lines.column("claim_id").to_pylist(),
                                   strict=True)]  # fmt: skip
    return claims, lines.filter(pa.array(mask))


def _dt(day: object) -> datetime | None:
    return None if day is None else datetime.combine(day, datetime.min.time())  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
