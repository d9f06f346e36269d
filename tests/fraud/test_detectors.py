"""The pattern detectors on small hand-made runs where the answer is obvious, and on clean data
where they must stay quiet.

Given a background of ordinary visits (enough peers for every comparison), when one obvious case of
a pattern is added, then that pattern's detector fires on exactly the abusive claim and on no other.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bhyt.fraud.features import NAMES, DetectInputError, compute
from bhyt.fraud.model import anomaly
from bhyt.fraud.patterns import PATTERNS, columns, fired

Claim = dict[str, Any]
Line = tuple[str, str, float, int]  # item code, cost group, quantity, amount
EXAM, DRUG, XRAY = ("02.03", "13", 1.0, 50_000), ("40.677", "4", 30.0, 6_450), ("18.0119.0028", "2", 1.0, 73_300)
BED = ("K03.NO2", "15")
START = datetime(2025, 3, 3, 8, 0)  # noqa: DTZ001 - wall time, as the standard sends it


class Run:
    """An assessment run's folder written by hand: claims.parquet and lines.parquet."""

    def __init__(self) -> None:
        self.claims: list[Claim] = []
        self.lines: list[dict[str, Any]] = []

    def add(self, lines: list[Line], **claim: Any) -> str:
        seq = len(self.claims)
        c: Claim = {
            "seq": seq,
            "facility": "01002",
            "claim_id": f"LK{seq:06d}",
            "card": f"GD4010100{seq:06d}",
            "status": "accepted",
            "rules": [],
            "main_diagnosis": "J20.9",
            "inpatient": False,
            "admitted_at": START + timedelta(hours=seq),
            "registered_facility": "01002",
            "referred_from": None,
            "referred_to": None,
            "outcome": 1,
            "facility_level": "basic",
            "birth_date": date(1980, 1, 1),
            **claim,
        }
        c.setdefault("discharged_at", c["admitted_at"] + timedelta(hours=2))
        c["period"] = c["admitted_at"].strftime("%Y-%m")
        total = sum(amount for *_, amount in lines)
        c.setdefault("claimed_fund", total)
        c.setdefault("assessed_fund", c["claimed_fund"])
        c["n_lines"] = len(lines)
        c["claimed_total"] = Decimal(total)
        self.claims.append(c)
        for i, (item, group, qty, amount) in enumerate(lines, start=1):
            self.lines.append({"seq": seq, "table": "XML2" if group == "4" else "XML3", "line_no": i,
                               "item_code": item, "cost_group": group, "quantity": Decimal(str(qty)),
                               "total": Decimal(amount)})  # fmt: skip
        return str(c["claim_id"])

    def background(self, n: int = 60) -> None:
        """Ordinary visits: an exam, a drug, sometimes an X-ray; each card once; and inpatient stays of 3–5 days."""
        for i in range(n):
            self.add([EXAM, DRUG] + ([XRAY] if i % 3 == 0 else []), admitted_at=START + timedelta(days=i % 28, hours=i))
        for i in range(30):
            days = 3 + i % 3
            at = START + timedelta(days=i % 28, hours=i)
            self.add([EXAM, XRAY, (BED[0], BED[1], float(days), 222_300 * days), DRUG], inpatient=True,
                     main_diagnosis="J18.9", admitted_at=at, discharged_at=at + timedelta(days=days))  # fmt: skip

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        claims = pa.Table.from_pylist(self.claims).cast(
            pa.schema([
                ("seq", pa.int64()), ("facility", pa.string()), ("claim_id", pa.string()), ("card", pa.string()),
                ("status", pa.string()), ("rules", pa.list_(pa.string())), ("main_diagnosis", pa.string()),
                ("inpatient", pa.bool_()), ("admitted_at", pa.timestamp("s")), ("registered_facility", pa.string()),
                ("referred_from", pa.string()), ("referred_to", pa.string()), ("outcome", pa.int8()),
                ("facility_level", pa.string()), ("birth_date", pa.date32()),
                ("discharged_at", pa.timestamp("s")), ("period", pa.string()), ("claimed_fund", pa.int64()),
                ("assessed_fund", pa.int64()), ("n_lines", pa.int64()), ("claimed_total", pa.decimal128(18, 2)),
            ])
        )  # fmt: skip
        pq.write_table(claims, folder / "claims.parquet")
        lines = pa.Table.from_pylist(self.lines).cast(
            pa.schema([("seq", pa.int64()), ("table", pa.string()), ("line_no", pa.int32()), ("item_code", pa.string()),
                       ("cost_group", pa.string()), ("quantity", pa.decimal128(18, 3)),
                       ("total", pa.decimal128(18, 2))])
        )  # fmt: skip
        pq.write_table(lines, folder / "lines.parquet")
        return folder


def _hits(run: Run, folder: Path) -> dict[str, set[str]]:
    f = compute(run.write(folder))
    ids = np.array(f["claim_id"].to_pylist(), dtype=object)
    return {code: set(ids[mask].tolist()) for code, mask in fired(columns(f, NAMES)).items()}


def _card_sharing(r: Run) -> str:
    r.add([EXAM, DRUG], card="HT3010100999999", facility="01002", admitted_at=START + timedelta(days=40))
    later = START + timedelta(days=40, hours=2)
    return r.add([EXAM, DRUG], card="HT3010100999999", facility="79003", admitted_at=later)


def _phantom(r: Run) -> str:
    at = START + timedelta(days=45)
    return r.add([(BED[0], BED[1], 7.0, 222_300 * 7), ("40.1050", "4", 20.0, 19_800)], inpatient=True,
                 main_diagnosis="J18.9", card="HT3790100888888", facility="01005", registered_facility="79001",
                 admitted_at=at, discharged_at=at + timedelta(days=7))  # fmt: skip


def _duplicate(r: Run) -> str:
    at = START + timedelta(days=50)
    r.add([EXAM, DRUG], card="GD4010100777777", admitted_at=at)
    return r.add([EXAM, DRUG], card="GD4010100777777", admitted_at=at)


def _overlap(r: Run) -> str:
    at = START + timedelta(days=50)
    stay = [EXAM, XRAY, (BED[0], BED[1], 4.0, 222_300 * 4)]
    r.add(stay, inpatient=True, main_diagnosis="J18.9", card="GD4010100666666", admitted_at=at,
          discharged_at=at + timedelta(days=4))  # fmt: skip
    return r.add(stay, inpatient=True, main_diagnosis="J18.9", card="GD4010100666666", facility="01005",
                 admitted_at=at + timedelta(days=1), discharged_at=at + timedelta(days=4))  # fmt: skip


def _ping_pong(r: Run) -> str:
    card, at = "GD4010100555555", START + timedelta(days=55)
    r.add([EXAM, DRUG], card=card, facility="01002", admitted_at=at)
    r.add([EXAM, DRUG], card=card, facility="01005", referred_from="01002", admitted_at=at + timedelta(days=4))
    return r.add([EXAM, DRUG], card=card, facility="01002", referred_from="01005", admitted_at=at + timedelta(days=9))


def _repeat(r: Run) -> str:
    card, at = "GD4010100444444", START + timedelta(days=60)
    ids = [r.add([EXAM, DRUG], card=card, admitted_at=at + timedelta(days=3 * i)) for i in range(5)]
    return ids[-1]


def _upcoding(r: Run) -> str:
    return r.add([EXAM, DRUG, ("18.0191.0040", "2", 1.0, 550_100)], admitted_at=START + timedelta(days=61))


def _inflated_los(r: Run) -> str:
    at = START + timedelta(days=62)
    return r.add([EXAM, XRAY, (BED[0], BED[1], 14.0, 222_300 * 14), DRUG], inpatient=True, main_diagnosis="J18.9",
                 admitted_at=at, discharged_at=at + timedelta(days=14))  # fmt: skip


def _prescription(r: Run) -> str:
    return r.add([EXAM, ("40.677", "4", 300.0, 64_500)], admitted_at=START + timedelta(days=63))


def _after_death(r: Run) -> str:
    at = START + timedelta(days=20)
    stay = [EXAM, XRAY, (BED[0], BED[1], 3.0, 222_300 * 3)]
    r.add(stay, inpatient=True, main_diagnosis="J18.9", card="HT2010100333333", outcome=5, admitted_at=at,
          discharged_at=at + timedelta(days=3))  # fmt: skip
    return r.add([EXAM, DRUG], card="HT2010100333333", admitted_at=at + timedelta(days=30))


def _unbundling(r: Run) -> str:
    return r.add([EXAM, DRUG], rules=["unbundling.part_with_panel"], admitted_at=START + timedelta(days=64))


CASES: dict[str, Callable[[Run], str]] = {
    "card_sharing": _card_sharing,
    "phantom": _phantom,
    "duplicate": _duplicate,
    "overlapping_stay": _overlap,
    "ping_pong": _ping_pong,
    "repeat_visits": _repeat,
    "upcoding": _upcoding,
    "inflated_los": _inflated_los,
    "prescription": _prescription,
    "unbundling": _unbundling,
    "after_death": _after_death,
}


@pytest.mark.parametrize("code", sorted(CASES))
def test_detector_fires_on_its_obvious_case(code: str, tmp_path: Path) -> None:
    run = Run()
    run.background()
    abusive = CASES[code](run)
    hits = _hits(run, tmp_path / "run")
    assert abusive in hits[code], hits[code]
    assert hits[code] <= {abusive, *(c["claim_id"] for c in run.claims[90:])}  # nothing in the background


def test_background_alone_is_quiet(tmp_path: Path) -> None:
    run = Run()
    run.background()
    hits = _hits(run, tmp_path / "run")
    assert {code: ids for code, ids in hits.items() if ids} == {}


def test_a_referral_the_same_day_is_not_card_sharing(tmp_path: Path) -> None:
    """Given a patient sent the same morning from a district hospital to the provincial one with a
    referral paper, the second visit is care, not a borrowed card."""
    run = Run()
    run.background()
    at = START + timedelta(days=40)
    run.add([EXAM], card="HT3010100999999", facility="01002", referred_to="01005", admitted_at=at)
    second = run.add([EXAM, XRAY], card="HT3010100999999", facility="01005", referred_from="01002",
                     admitted_at=at + timedelta(hours=2))  # fmt: skip
    assert second not in _hits(run, tmp_path / "run")["card_sharing"]


def test_sudden_change_finds_the_padding_month(tmp_path: Path) -> None:
    """Given a facility whose visits are alike for six months, when it adds an ECG to every visit from
    July, then the sudden-change detector fires on July's visits and not before."""
    run = Run()
    for month in range(1, 10):
        for i in range(25):
            extra = [("02.0085.1778", "3", 1.0, 39_900)] if month >= 7 else []
            run.add([EXAM, DRUG, *extra], facility="01003", admitted_at=START.replace(month=month, day=1 + i))
    hits = _hits(run, tmp_path / "run")["sudden_change"]
    months = {c["admitted_at"].month for c in run.claims if c["claim_id"] in hits}
    assert months == {7, 8, 9}


def test_every_pattern_is_documented() -> None:
    codes = [p.code for p in PATTERNS]
    assert len(codes) == len(set(codes)) >= 12
    for p in PATTERNS:
        values = dict.fromkeys(NAMES, 1.0)
        assert p.text(values, "en")
        assert p.text(values, "vi")
        assert p.kinds


def test_a_folder_without_a_run_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DetectInputError, match=r"no claims\.parquet; give the --out folder of `bhyt assess`"):
        compute(tmp_path)
    (tmp_path / "claims.parquet").write_text("not parquet")
    (tmp_path / "lines.parquet").write_text("not parquet")
    with pytest.raises(DetectInputError, match="not an assessment run"):
        compute(tmp_path)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.floats(-1e6, 1e6), min_size=3, max_size=3), min_size=2, max_size=60))
def test_anomaly_is_a_percentile(rows: list[list[float]]) -> None:
    """In [0, 1]; equal claims score alike; the order of the batch changes nothing."""
    x = np.array(rows)
    a = anomaly(x)
    assert a.shape == (len(rows),)
    assert np.all((a >= 0) & (a <= 1))
    _, first, inverse = np.unique(x, axis=0, return_index=True, return_inverse=True)
    np.testing.assert_array_equal(a, a[first][inverse.ravel()])
    perm = np.random.default_rng(0).permutation(len(rows))
    np.testing.assert_allclose(anomaly(x[perm]), a[perm])


def test_anomaly_ranks_the_outlier_last() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(500, 4))
    x[17] = [40, -40, 40, -40]
    assert anomaly(x).argmax() == 17


def test_facility_outlier_against_its_peers(tmp_path: Path) -> None:
    """Given seven facilities of one level in the north billing an exam and a drug, when an eighth bills
    eight services more on every visit, then that facility's visits are its peers' outliers."""
    run = Run()
    extra = [(f"23.00{i:02d}.1494", "1", 1.0, 22_400) for i in range(8)]
    for f in range(8):
        for i in range(30):
            lines = [EXAM, DRUG] + (extra if f == 7 else []) + ([XRAY] if i % 4 == 0 else [])
            run.add(lines, facility=f"0100{f}", registered_facility=f"0100{f}", admitted_at=START + timedelta(days=i))
    hits = _hits(run, tmp_path / "run")["facility_outlier"]
    assert {c["facility"] for c in run.claims if c["claim_id"] in hits} == {"01007"}
