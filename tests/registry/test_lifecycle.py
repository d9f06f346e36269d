"""Changes to cover through the service, on SQLite and PostgreSQL: issue, renew, change group,
lapse, change the registered facility, correct a period; the counter sees each change at once; the
record keeps what we held before; who may change what; purpose codes in the audit log."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from bhyt.policy.params import default_parameters
from bhyt.registry.lifecycle import Current, RegistryRuleError, check_change_window, check_new_period, continuity
from bhyt.registry.service import collection, person_record
from bhyt.security.models import AuditEntry
from bhyt.security.roles import Role
from bhyt.synth.run import SynthConfig, synthesize
from tests.api_support import ADMIN, bearer

PARAMS = default_parameters()


def _period(start: date, end: date | None, since: date | None = None) -> Current:
    return Current(1, 1, "GD4010000000001", "GD", "4", start, end, "01001", since, None, None)


@given(st.dates(date(2010, 1, 1), date(2035, 12, 31)))
def test_the_registered_facility_changes_only_at_the_start_of_a_quarter(on: date) -> None:
    quarter_start = date(on.year, (on.month - 1) // 3 * 3 + 1, 1)
    if (on - quarter_start).days < 15:
        check_change_window(PARAMS, on)
        return
    with pytest.raises(RegistryRuleError) as refused:
        check_change_window(PARAMS, on)
    assert refused.value.code == "registry.change_window"
    opens = date.fromisoformat(str(refused.value).rsplit(" ", 1)[1])
    assert opens > on
    assert opens.day == 1
    assert opens.month in (1, 4, 7, 10)
    assert (opens - on).days <= 92


def test_continuity_carries_across_short_gaps_only() -> None:
    before = [_period(date(2019, 3, 1), date(2024, 12, 31), since=date(2019, 3, 1))]
    assert continuity(PARAMS, before, date(2025, 1, 1)) == (date(2019, 3, 1), date(2024, 3, 1))
    assert continuity(PARAMS, before, date(2025, 4, 1)) == (date(2019, 3, 1), date(2024, 3, 1))  # 90 days off
    assert continuity(PARAMS, before, date(2025, 4, 2)) == (date(2025, 4, 2), date(2030, 4, 2))  # 91: restart
    assert continuity(PARAMS, [], date(2024, 2, 29)) == (date(2024, 2, 29), date(2029, 2, 28))


def test_a_new_period_may_not_overlap_one_in_force() -> None:
    periods = [_period(date(2025, 1, 1), date(2025, 6, 30)), _period(date(2025, 9, 1), None)]
    check_new_period(periods, date(2025, 7, 1), date(2025, 8, 31))
    for start, end in ((date(2025, 6, 30), date(2025, 7, 5)), (date(2025, 8, 1), None), (date(2026, 1, 1), None)):
        with pytest.raises(RegistryRuleError, match=r"registry\.overlap"):
            check_new_period(periods, start, end)
    with pytest.raises(RegistryRuleError, match=r"registry\.period_order"):
        check_new_period(periods, date(2025, 8, 1), date(2025, 7, 1))


@pytest.fixture(scope="module")
def nation(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("lifecycle") / "nation"
    synthesize(SynthConfig(people=400, year=2025, seed=11, out=out, provinces=["01", "79"]))
    return out


def _registry(nation: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    read = (pq.read_table(nation / "registry" / f"{n}.parquet").to_pylist() for n in ("people", "cards", "facilities"))
    people, cards, facilities = read
    return people, cards, facilities


def test_changes_to_cover_reach_the_counter_at_once(client: TestClient, engine: Engine, nation: Path) -> None:
    people, cards, facilities = _registry(nation)
    province = {p["citizen_id"]: p["province"] for p in people}
    counts: dict[str, int] = {}
    for c in cards:
        counts[c["citizen_id"]] = counts.get(c["citizen_id"], 0) + 1
    c = next(x for x in cards if counts[x["citizen_id"]] == 1 and x["valid_from"] == date(2025, 1, 1)
             and x["valid_to"] == date(2025, 12, 31) and x["group"] not in ("GD", "TE"))  # fmt: skip
    cid, officer = c["citizen_id"], bearer(Role.PROVINCE, province=province[c["citizen_id"]])
    base = f"/registry/people/{cid}"

    def counter(on: date, **q: str) -> dict[str, Any]:
        answer = client.get("/eligibility", params={"date": on.isoformat(), **q}, headers=ADMIN)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    # Who may change cover: the officer of the person's province and admins; auditors only read.
    elsewhere = next(p["province"] for p in people if p["province"] != province[cid])
    for who, status in ((bearer(Role.PROVINCE, province=elsewhere), 403), (bearer(Role.AUDITOR), 403),
                        (bearer(Role.FACILITY, facility=c["registered_facility"]), 403),
                        (bearer(Role.CITIZEN, citizen_id=cid), 403)):  # fmt: skip
        assert client.post(f"{base}/cards/lapse", json={"on": "2025-05-01"}, headers=who).status_code == status
    assert client.post("/registry/people/000000000001/cards/lapse", json={"on": "2025-05-01"},
                       headers=ADMIN).status_code == 404  # fmt: skip

    # A new registered facility from the start of a quarter, to a contracted facility.
    new_home = next(f["code"] for f in facilities if f["code"] != c["registered_facility"]
                    and f["code"][:2] == c["registered_facility"][:2] and f["kind"] == "station")  # fmt: skip
    late = client.post(f"{base}/registered-facility", json={"facility": new_home, "on": "2025-08-20"}, headers=officer)
    assert late.status_code == 409
    assert late.json()["code"] == "registry.change_window"
    assert late.headers["content-type"].startswith("application/problem+json")
    unknown = client.post(f"{base}/registered-facility", json={"facility": "00999", "on": "2025-07-03"},
                          headers=officer)  # fmt: skip
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "registry.facility_unknown"
    moved = client.post(f"{base}/registered-facility", json={"facility": new_home, "on": "2025-07-03"}, headers=officer)
    assert moved.status_code == 200, moved.text
    assert counter(date(2025, 7, 10), card=c["card"])["registered_facility"] == new_home
    assert counter(date(2025, 7, 2), card=c["card"])["registered_facility"] == c["registered_facility"]
    assert counter(date(2025, 7, 10), card=c["card"], facility=new_home)["route_code"] == "1.1"

    # A new group from 1 September: a new card number on the same social insurance number.
    regrouped = client.post(f"{base}/cards/change-group", json={"group": "GD", "on": "2025-09-01"}, headers=officer)
    assert regrouped.status_code == 200, regrouped.text
    new_card = regrouped.json()["card"]
    assert new_card.startswith("GD4")
    assert new_card[3:] == c["card"][3:]
    assert counter(date(2025, 9, 2), card=c["card"])["outcome"] == "not_covered"
    by_id = counter(date(2025, 9, 2), citizen_id=cid)
    assert by_id["card"] == new_card
    assert set(by_id["cards"]) == {c["card"], new_card}
    assert by_id["registered_facility"] == new_home  # carried from the period it replaced
    same = client.post(f"{base}/cards/change-group", json={"group": "GD", "on": "2025-10-01"}, headers=officer)
    assert same.json()["code"] == "registry.same_group"

    # Lapse from 1 November, then renew to the end of 2026: continuous participation carries on.
    assert client.post(f"{base}/cards/lapse", json={"on": "2025-11-01"}, headers=officer).status_code == 200
    assert counter(date(2025, 11, 5), citizen_id=cid)["outcome"] == "not_covered"
    assert counter(date(2025, 10, 31), citizen_id=cid)["covered"]
    renewed = client.post(f"{base}/cards/renew", json={"valid_to": "2026-12-31"}, headers=officer)
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["valid_from"] == "2025-11-01"
    after = counter(date(2026, 3, 1), citizen_id=cid)
    assert after["covered"]
    assert after["card"] == new_card
    since = c["continuous_since"]
    assert after["five_year_date"] == since.replace(year=since.year + 5).isoformat()
    overlap = client.post(f"{base}/cards", json={"group": "HS", "valid_from": "2026-02-01", "valid_to": "2026-06-30",
                                                "registered_facility": new_home}, headers=officer)  # fmt: skip
    assert overlap.status_code == 409
    assert overlap.json()["code"] == "registry.overlap"

    # The database is the truth: a full rebuild of the index answers the same.
    assert client.post("/registry/reload", headers=ADMIN).status_code == 200
    assert counter(date(2026, 3, 1), citizen_id=cid)["card"] == new_card
    assert counter(date(2025, 9, 2), card=c["card"])["outcome"] == "not_covered"
    assert counter(date(2025, 7, 10), card=c["card"])["registered_facility"] == new_home

    # Purposes: a code (with a note) or the endpoint's default; an unknown code is refused.
    bad = client.get(base, headers=officer | {"x-purpose": "curiosity"})
    assert bad.status_code == 400
    assert "purpose code" in bad.json()["detail"]
    assert client.get(base, headers=officer | {"x-purpose": "investigation: case 7"}).status_code == 200
    client.__exit__(None, None, None)  # the service stops: the audit log writes what it holds
    with engine.connect() as conn:
        logged = conn.execute(select(AuditEntry.action, AuditEntry.purpose, AuditEntry.outcome)
                              .where(AuditEntry.target == cid)).all()  # fmt: skip
    assert ("card.change_facility", "enrolment", "refused") in logged
    assert ("card.change_group", "enrolment", "allowed") in logged
    assert ("card.lapse", "enrolment", "denied") in logged
    assert ("person.read", "investigation: case 7", "allowed") in logged
    assert not any(p == "curiosity" for _, p, _ in logged)


def test_issue_and_correct_keep_what_we_held(client: TestClient, engine: Engine, nation: Path) -> None:
    people, cards, facilities = _registry(nation)
    insured = {c["citizen_id"] for c in cards}
    p = next(x for x in people if x["citizen_id"] not in insured and x["birth_date"] < date(2000, 1, 1))
    home = next(f["code"] for f in facilities if f["kind"] == "station" and f["province"] == p["province"])
    employer = next(c["employer"] for c in cards if c["employer"] and c["employer"].startswith(p["province"]))
    base = f"/registry/people/{p['citizen_id']}"
    assert client.get("/eligibility", params={"citizen_id": p["citizen_id"], "date": "2025-06-01"},
                      headers=ADMIN).json()["outcome"] == "not_found"  # fmt: skip
    bad_group = client.post(f"{base}/cards", json={"group": "ZZ", "valid_from": "2025-06-01",
                                                  "registered_facility": home}, headers=ADMIN)  # fmt: skip
    assert bad_group.status_code == 422
    assert bad_group.json()["code"] == "registry.group_unknown"
    issued = client.post(f"{base}/cards", json={"group": "GD", "valid_from": "2025-06-01", "valid_to": "2026-05-31",
                                               "registered_facility": home}, headers=ADMIN)  # fmt: skip
    assert issued.status_code == 201, issued.text
    number = issued.json()["card"]
    assert number.startswith(f"GD4{p['province']}")
    assert len(number) == 15
    answer = client.get("/eligibility", params={"card": number, "date": "2025-06-01", "facility": home},
                        headers=ADMIN).json()  # fmt: skip
    assert answer["covered"]
    assert answer["citizen_id"] == p["citizen_id"]
    assert answer["route_code"] == "1.1"
    assert answer["five_year_date"] == "2030-06-01"  # no earlier cover: the five years start now

    # A worker: the employer from the register and the salary, or the card is refused.
    worker = next(x for x in people if x["citizen_id"] not in insured and x["citizen_id"] != p["citizen_id"]
                  and x["birth_date"] < date(2000, 1, 1))  # fmt: skip
    job = {"group": "DN", "valid_from": "2025-03-01", "registered_facility": home}
    for extra, code in (
        ({}, "registry.employer_unknown"),
        ({"employer": "01DN99999"}, "registry.employer_unknown"),
        ({"employer": employer}, "registry.income_missing"),
        ({"employer": employer, "income": 9_000_000, "group": "GD"}, "registry.employer_unexpected"),
    ):
        refused = client.post(f"/registry/people/{worker['citizen_id']}/cards", json=job | extra, headers=ADMIN)
        assert (refused.status_code, refused.json()["code"]) == (422, code), extra
    unit = f"employer:{employer}"

    def listed(month: int) -> int:
        units = {u["payer"]: u for u in collection(engine, default_parameters(), date(2025, month, 1))}
        assert units[unit]["unpriced"] == 0
        return int(units[unit]["people"])

    before = {m: listed(m) for m in (2, 3, 4)}
    hired = client.post(f"/registry/people/{worker['citizen_id']}/cards",
                        json=job | {"employer": employer, "income": 9_000_000}, headers=ADMIN)  # fmt: skip
    assert hired.status_code == 201, hired.text
    assert client.post(f"/registry/people/{worker['citizen_id']}/cards/lapse", json={"on": "2025-04-01"},
                       headers=ADMIN).status_code == 200  # fmt: skip
    assert {m: listed(m) for m in (2, 3, 4)} == before | {3: before[3] + 1}  # on the list for March only

    learned = datetime.now().replace(microsecond=0)  # noqa: DTZ005 - wall time, as the record's
    record = issued.json()["record"]
    card_id = record["cards"][-1]["id"]
    for wrong in ({"status": "x"}, {"valid_from": None}, {"registered_facility": None}):
        refused = client.post(f"{base}/cards/{card_id}/correction", json=wrong, headers=ADMIN)
        assert (refused.status_code, refused.json()["code"]) == (422, "registry.correction_field"), wrong
    early = client.post(f"{base}/cards/{card_id}/correction", json={"valid_from": "2017-01-01"}, headers=ADMIN)
    assert (early.status_code, early.json()["code"]) == (422, "registry.no_rules")
    later = learned + timedelta(seconds=1)
    while datetime.now() < later:  # noqa: DTZ005 - wall time: the correction is recorded a second later
        pass
    fixed = client.post(f"{base}/cards/{card_id}/correction", json={"valid_from": "2025-05-01"}, headers=ADMIN)
    assert fixed.status_code == 200, fixed.text
    assert client.get("/eligibility", params={"card": number, "date": "2025-05-02"}, headers=ADMIN).json()["covered"]
    then = person_record(engine, p["citizen_id"], known_at=learned)
    now = person_record(engine, p["citizen_id"], history=True)
    assert then is not None
    assert now is not None
    assert [c["valid_from"] for c in then["cards"]] == ["2025-06-01"]
    assert [c["valid_from"] for c in then["participation"]] == ["2025-06-01"]
    current = [c for c in now["cards"] if c["superseded_at"] is None]
    assert [(c["valid_from"], c["status"]) for c in current] == [("2025-05-01", "corrected")]
    assert len(now["cards"]) == 2  # the wrong row kept, superseded
    known = client.get(base, params={"known_at": learned.isoformat()}, headers=ADMIN).json()
    assert [c["valid_from"] for c in known["cards"]] == ["2025-06-01"]
    assert [c["valid_from"] for c in client.get(base, headers=ADMIN).json()["cards"]] == ["2025-05-01"]
    assert len(client.get(base, params={"history": "true"}, headers=ADMIN).json()["cards"]) == 2
    assert client.get("/registry/contributions", params={"month": "2017-01"}, headers=ADMIN).status_code == 422


def c_funding(group: str) -> str:
    return PARAMS.code_by_code("contribution.funding_by_group", date(2025, 10, 1))[group]


def test_a_change_reaches_the_periods_after_it(client: TestClient, engine: Engine, nation: Path) -> None:
    _, cards, facilities = _registry(nation)
    counts: dict[str, int] = {}
    for c in cards:
        counts[c["citizen_id"]] = counts.get(c["citizen_id"], 0) + 1
    c = next(x for x in cards if counts[x["citizen_id"]] == 1 and x["valid_to"] == date(2025, 12, 31)
             and x["group"] in ("HS", "BT", "DT", "CB"))  # fmt: skip
    cid, base = c["citizen_id"], f"/registry/people/{c['citizen_id']}"
    assert client.post(f"{base}/cards/renew", json={"valid_to": "2026-12-31"}, headers=ADMIN).status_code == 200
    new_home = next(f["code"] for f in facilities if f["code"] != c["registered_facility"]
                    and f["code"][:2] == c["registered_facility"][:2] and f["kind"] == "station")  # fmt: skip
    moved = client.post(f"{base}/registered-facility", json={"facility": new_home, "on": "2025-10-02"}, headers=ADMIN)
    assert moved.status_code == 200, moved.text
    regrouped = client.post(f"{base}/cards/change-group", json={"group": "GD", "on": "2025-11-01"}, headers=ADMIN)
    assert regrouped.status_code == 200, regrouped.text

    def answer(on: str) -> dict[str, Any]:
        return dict(client.get("/eligibility", params={"citizen_id": cid, "date": on}, headers=ADMIN).json())

    next_year = answer("2026-03-01")
    assert next_year["card"].startswith("GD4")  # the renewed period moved to the new group too
    assert next_year["registered_facility"] == new_home  # and to the new facility
    assert answer("2025-10-15")["card"] == c["card"]
    # The new facility continues the unit's list (no decrease on 1 October, no increase on the 2nd); the new
    # group moves the person to another unit's list (a decrease on 31 October, an increase on 1 November).
    listed = [(x["kind"], x["on"], x["payer"].split(":")[0]) for m in ("2025-10", "2025-11")
              for x in client.get("/registry/changes", params={"month": m}, headers=ADMIN).json()["changes"]
              if x["citizen_id"] == cid]  # fmt: skip
    assert sorted(listed) == [
        ("decrease", "2025-10-31", c_funding(c["group"])),
        ("increase", "2025-11-01", "household"),
    ]
    assert client.post(f"{base}/cards/lapse", json={"on": "2026-02-01"}, headers=ADMIN).status_code == 200
    assert answer("2026-03-01")["outcome"] == "not_covered"
    assert answer("2026-01-31")["covered"]
