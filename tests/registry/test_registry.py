"""The registry on SQLite and PostgreSQL: bulk load, the card check (by card and by citizen ID),
route codes, contributions, monthly lists, and the HTTP service's role matrix and audit log."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError

from bhyt.api.app import create_app
from bhyt.policy.contribution import household_contributions
from bhyt.policy.params import ParameterSet
from bhyt.policy.route import walk_in_route
from bhyt.registry.models import Participation
from bhyt.registry.service import card_index, household_due, monthly_changes, person_record
from bhyt.security.models import AuditEntry
from bhyt.security.roles import Role
from bhyt.settings import Settings
from bhyt.synth.episodes import route_codes
from bhyt.synth.run import SynthConfig, synthesize
from tests.api_support import ADMIN, SECRET, SETTINGS, bearer

DAY = date(2025, 6, 15)


@pytest.fixture(scope="module")
def nation(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("registry") / "nation"
    synthesize(SynthConfig(people=600, year=2025, seed=4, out=out, provinces=["01", "79"]))
    return out


def _cards(nation: Path) -> list[dict[str, Any]]:
    return pq.read_table(nation / "registry" / "cards.parquet").to_pylist()


def test_load_and_the_card_check(engine: Engine, nation: Path, params: ParameterSet) -> None:
    cards = _cards(nation)
    index = card_index(engine)
    assert index.size == len(cards)
    for c in cards[:200]:
        by_card = index.check(params, c["valid_from"], card=c["card"])
        by_id = index.check(params, c["valid_from"], citizen_id=c["citizen_id"])
        assert by_card.covered, c
        assert by_id.covered, c
        assert by_card.card == by_id.card == c["card"]
        assert by_card.valid_to == c["valid_to"]
        home = index.check(params, c["valid_from"], card=c["card"], facility=c["registered_facility"])
        assert home.route_code == "1.1"
        assert home.facility_contracted is True
        if c["valid_to"] is not None:
            after = index.check(params, c["valid_to"] + timedelta(days=1), card=c["card"])
            later = [x for x in cards if x["card"] == c["card"] and x["valid_from"] > c["valid_to"]]
            assert after.covered == any(x["valid_from"] == c["valid_to"] + timedelta(days=1) for x in later)
    # A facility whose contract with the fund begins later: the person is covered, the visit there is not.
    c = cards[0]
    f = index.facilities[c["registered_facility"]]
    index.facilities[f.code] = replace(f, contract_from=c["valid_from"] + timedelta(days=1))
    early = index.check(params, c["valid_from"], card=c["card"], facility=f.code)
    assert early.covered
    assert early.facility_contracted is False
    assert early.route_code is None
    assert "no contract" in early.message
    assert index.check(params, c["valid_from"], card=c["card"]).facility_contracted is None
    assert index.check(params, DAY, card="XX1234").outcome == "malformed"
    assert index.check(params, DAY, citizen_id="12345").outcome == "malformed"
    assert index.check(params, DAY).outcome == "malformed"
    before = index.check(params, date(2000, 1, 1), card=cards[0]["card"])
    assert before.outcome == "malformed"
    assert "no rules of cover in force" in before.message
    assert index.check(params, DAY, card=cards[0]["card"][:5] + "9999999999").outcome == "not_found"
    exempt = [c for c in cards if c["five_year_date"] and c["five_year_date"] < c["valid_from"]]
    assert exempt
    first = exempt[0]
    answer = index.check(params, first["valid_from"], card=first["card"])
    assert answer.five_year_date == first["five_year_date"]
    assert not answer.copay_exempt  # nothing paid yet this year: below the threshold
    index.copay[(first["person_id"], first["valid_from"].year)] = 50_000_000
    assert index.check(params, first["valid_from"], card=first["card"]).copay_exempt


def test_participation_record_contributions_and_lists(engine: Engine, nation: Path, params: ParameterSet) -> None:
    cards = _cards(nation)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Participation)) == len(cards)
        gd = conn.execute(select(Participation).where(Participation.group_code == "GD")).mappings().first()
    assert gd is not None
    assert gd["payer"].startswith("household:")
    assert gd["funding"] == "household"
    record = person_record(engine, cards[0]["citizen_id"])
    assert record is not None
    assert record["cards"][0]["number"] == cards[0]["card"]
    people = pq.read_table(nation / "registry" / "people.parquet").to_pylist()
    sizes: dict[int, int] = {}
    for p in people:
        sizes[p["household_id"]] = sizes.get(p["household_id"], 0) + 1
    big = max(sizes, key=lambda h: sizes[h])
    due = household_due(engine, params, big, date(2025, 7, 1), 12)
    assert due is not None
    assert len(due["members"]) >= 2
    expected = household_contributions(params, groups=[m["group"] for m in due["members"]], start=date(2025, 7, 1),
                                       months=12)  # fmt: skip
    assert [m["total"] for m in due["members"]] == [c.total for c in expected]
    assert household_due(engine, params, 10**9, date(2025, 7, 1), 12) is None
    starts = [c for c in cards if c["valid_from"].day == 1 and c["valid_from"].year == 2025]
    month = starts[0]["valid_from"]
    listed = monthly_changes(engine, month)
    assert any(ch.kind == "increase" and ch.citizen_id == starts[0]["citizen_id"] for ch in listed)


def test_walk_in_route_matches_the_synthetic_nation(params: ParameterSet) -> None:
    kinds = ["station", "polyclinic", "district", "private", "provincial_basic", "provincial", "central"]
    for year in (2024, 2026):
        for kind in kinds:
            for points in ("", "lt50", "50to70", "former"):
                for inpatient in (False, True):
                    for living in (None, "K1"):
                        synth = route_codes(year, np.array([4]), np.array([kind], dtype=object),
                                            np.array([points], dtype=object), np.array([inpatient]),
                                            np.array([living], dtype=object))[0]  # fmt: skip
                        ours = walk_in_route(params, date(year, 3, 1), kind, points, inpatient, living is not None,
                                             registered_here=False, same_province=False)  # fmt: skip
                        assert ours == synth, (year, kind, points, inpatient, living)


def test_roles_see_exactly_what_they_should(client: TestClient, engine: Engine, nation: Path) -> None:
    cards = _cards(nation)
    people = {p["citizen_id"]: p for p in pq.read_table(nation / "registry" / "people.parquet").to_pylist()}
    c = cards[0]
    other = next(x for x in cards if people[x["citizen_id"]]["province"] != people[c["citizen_id"]]["province"])
    mine, home = people[c["citizen_id"]]["province"], c["registered_facility"]
    q = {"card": c["card"], "date": c["valid_from"].isoformat()}

    def get(path: str, who: dict[str, str], **params: Any) -> int:
        return client.get(path, params=params, headers=who).status_code

    assert get("/eligibility", {}, **q) == 401
    assert get("/eligibility", {"authorization": "Bearer nonsense"}, **q) == 401
    matrix = {
        (Role.FACILITY, "own facility"): (bearer(Role.FACILITY, facility=home), {"facility": home}, 200),
        (Role.FACILITY, "another facility"): (bearer(Role.FACILITY, facility=home), {"facility": "99999"}, 403),
        (Role.CITIZEN, "self"): (bearer(Role.CITIZEN, citizen_id=c["citizen_id"]), {}, 200),
        (Role.CITIZEN, "someone else"): (bearer(Role.CITIZEN, citizen_id=other["citizen_id"]), {}, 403),
        (Role.PROVINCE, "own province"): (bearer(Role.PROVINCE, province=mine), {}, 200),
        (Role.PROVINCE, "another province"): (
            bearer(Role.PROVINCE, province=people[other["citizen_id"]]["province"]),
            {},
            403,
        ),
        (Role.ASSESSOR, "any"): (bearer(Role.ASSESSOR, province=mine), {}, 403),
        (Role.AUDITOR, "any"): (bearer(Role.AUDITOR), {}, 200),
        (Role.ADMIN, "any"): (ADMIN, {}, 200),
    }
    for case, (who, extra, status) in matrix.items():
        response = client.get("/eligibility", params=q | extra, headers=who)
        assert response.status_code == status, (case, response.text)
        if status >= 400:
            assert response.headers["content-type"].startswith("application/problem+json")
    staff_elsewhere = bearer(Role.FACILITY, facility=next(x["registered_facility"] for x in cards
                                                          if x["registered_facility"] != home))  # fmt: skip
    assert get("/eligibility", staff_elsewhere, **q) == 200  # a card check is for any patient at the counter
    body = client.get("/eligibility", params=q | {"facility": home}, headers=ADMIN).json()
    assert body["covered"]
    assert body["route_code"] == "1.1"
    assert body["card"] == c["card"]

    person = f"/registry/people/{c['citizen_id']}"
    assert get(person, bearer(Role.CITIZEN, citizen_id=c["citizen_id"])) == 200
    assert get(person, bearer(Role.CITIZEN, citizen_id=other["citizen_id"])) == 403
    assert get(person, bearer(Role.PROVINCE, province=mine)) == 200
    assert get(person, bearer(Role.FACILITY, facility=home)) == 403
    assert get(person, bearer(Role.AUDITOR)) == 200
    assert get("/registry/people/000000000000", ADMIN) == 404
    assert get("/citizens/me", bearer(Role.CITIZEN, citizen_id=c["citizen_id"])) == 200
    assert get("/citizens/me/visits", bearer(Role.CITIZEN, citizen_id=c["citizen_id"])) == 200
    assert get("/citizens/me", ADMIN) == 403
    assert get("/registry/changes", bearer(Role.FACILITY, facility=home), month="2025-06") == 403
    assert get("/registry/changes", bearer(Role.PROVINCE, province=mine), month="2025-06") == 200
    assert get("/claims/01001/LK1", bearer(Role.FACILITY, facility="79001")) == 403
    assert get("/claims/01001/LK1", bearer(Role.ASSESSOR, province="01")) == 404
    household = client.get(person, headers=ADMIN).json()["household_id"]
    old = client.get(f"/registry/households/{household}/contributions", params={"start": "1990-01-01"}, headers=ADMIN)
    assert old.status_code == 200
    assert old.json()["members"] == []  # nobody was insured through it then
    assert client.post("/registry/reload", headers=bearer(Role.AUDITOR)).status_code == 403
    assert client.post("/registry/reload", headers=ADMIN).json()["cards"] == len(cards)


def test_every_read_is_audited_and_the_log_is_append_only(engine: Engine, nation: Path) -> None:
    c = _cards(nation)[0]
    with TestClient(create_app(engine, SETTINGS), raise_server_exceptions=False) as client:
        client.get("/eligibility", params={"card": c["card"]}, headers=bearer(Role.FACILITY, facility="01001"))
        client.get(f"/registry/people/{c['citizen_id']}", headers=bearer(Role.CITIZEN, citizen_id="001099000001"),
                   params={})  # fmt: skip
    with engine.connect() as conn:
        rows = conn.execute(select(AuditEntry.__table__).order_by(AuditEntry.id)).all()
    assert [(r.action, r.target, r.outcome) for r in rows] == [
        ("eligibility.check", c["card"], rows[0].outcome),
        ("person.read", c["citizen_id"], "denied"),
    ]
    assert rows[0].subject == "test-facility"
    assert rows[0].outcome in ("covered", "not_covered")
    for statement in ("UPDATE audit_log SET outcome = 'allowed'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError), engine.begin() as conn:
            conn.execute(text(statement))


def test_rate_limit_and_fhir(engine: Engine, nation: Path) -> None:
    c = _cards(nation)[0]
    slow = Settings(token_secret=SECRET, rate_per_second=0.5, rate_burst=2)
    with TestClient(create_app(engine, slow), raise_server_exceptions=False) as client:
        codes = [client.get("/health").status_code] + [
            client.get("/eligibility", params={"card": c["card"]}, headers=ADMIN).status_code for _ in range(3)
        ]
        assert codes == [200, 200, 200, 429]
    with TestClient(create_app(engine, SETTINGS), raise_server_exceptions=False) as client:
        ask = {"resourceType": "CoverageEligibilityRequest", "id": "r1", "servicedDate": c["valid_from"].isoformat(),
               "patient": {"identifier": {"system": "urn:vn:cccd", "value": c["citizen_id"]}},
               "facility": {"identifier": {"value": c["registered_facility"]}}}  # fmt: skip
        r = client.post("/fhir/CoverageEligibilityRequest", json=ask, headers=ADMIN)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["resourceType"] == "CoverageEligibilityResponse"
        assert body["insurance"][0]["inforce"] is True
        assert body["insurance"][0]["coverage"]["identifier"]["value"] == c["card"]
        bad = client.post("/fhir/CoverageEligibilityRequest", content=b"{", headers=ADMIN)
        assert bad.status_code == 400
        assert bad.json()["resourceType"] == "OperationOutcome"


def test_language_problem_types_and_the_access_log(
    client: TestClient, nation: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Vietnamese by default, English by Accept-Language; every problem's type names its code and the
    API says what it means; each request is logged without personal data."""
    c = _cards(nation)[0]
    q = {"card": c["card"], "date": c["valid_from"].isoformat()}
    with caplog.at_level(logging.INFO, logger="bhyt.serve"):
        vi = client.get("/eligibility", params=q, headers=ADMIN)
    assert vi.json()["message"] == "thẻ còn giá trị sử dụng"
    assert vi.headers["content-language"] == "vi"
    en = client.get("/eligibility", params=q, headers=ADMIN | {"accept-language": "en-GB,en;q=0.9,vi;q=0.5"})
    assert en.json()["message"] == "covered"
    assert en.headers["content-language"] == "en"
    prefers_vi = client.get("/eligibility", params=q, headers=ADMIN | {"accept-language": "en;q=0.3, vi"})
    assert prefers_vi.json()["message"] == "thẻ còn giá trị sử dụng"
    line = next(r.getMessage() for r in caplog.records if "/eligibility" in r.getMessage())
    assert line.startswith("GET /eligibility 200 ")
    assert line.endswith(" test-admin")
    assert c["card"] not in line  # the query string (a card number) is never logged

    with caplog.at_level(logging.INFO, logger="bhyt.serve"):
        missing = client.get("/registry/people/000000000000", headers=ADMIN)
    logged = [r.getMessage() for r in caplog.records if "/registry/people" in r.getMessage()]
    assert logged[-1].startswith("GET /registry/people/{citizen_id} 404 ")  # the route, never the citizen ID
    assert missing.status_code == 404
    assert missing.json()["type"] == "/problems/http.not_found"
    refused = client.get("/eligibility", params=q, headers={"authorization": "Bearer nonsense"})
    assert refused.json()["type"] == "/problems/auth.unauthenticated"
    assert refused.headers["www-authenticate"] == "Bearer"
    bad = client.get("/eligibility", params=q, headers=ADMIN | {"x-purpose": "curiosity"})
    assert (bad.status_code, bad.json()["type"]) == (400, "/problems/auth.purpose")
    for code in ("http.not_found", "auth.unauthenticated", "registry.rule", "registry.overlap", "registry.no_rules",
                 "policy.no_rules", "db.missing"):  # fmt: skip
        doc = client.get(f"/problems/{code}")
        assert doc.status_code == 200, code
        assert doc.json()["code"] == code
        assert doc.json()["meaning"]
    assert client.get("/problems/nope").status_code == 404
    health = client.get("/health").json()
    assert (health["status"], health["service"]) == ("ok", "bhyt")


def test_a_citizen_cannot_tell_which_ids_exist_and_every_denial_is_audited(engine: Engine, nation: Path) -> None:
    c = _cards(nation)[0]
    me = bearer(Role.CITIZEN, citizen_id="001099000001")
    with TestClient(create_app(engine, SETTINGS), raise_server_exceptions=False) as client:
        known = client.get(f"/registry/people/{c['citizen_id']}", headers=me)
        unknown = client.get("/registry/people/000000000000", headers=me)
        assert (known.status_code, unknown.status_code) == (403, 403)  # the same answer: nothing learnt
        assert known.json()["detail"] == unknown.json()["detail"]
        odd = client.get("/claims/79001/LK1", headers=bearer(Role.FACILITY, facility="01001") | {"x-purpose": "x y"})
        assert odd.status_code == 403
    with engine.connect() as conn:
        rows = conn.execute(select(AuditEntry.action, AuditEntry.target, AuditEntry.purpose, AuditEntry.outcome)
                            .order_by(AuditEntry.id)).all()  # fmt: skip
    assert [tuple(r) for r in rows] == [
        ("person.read", c["citizen_id"], "enrolment", "denied"),
        ("person.read", "000000000000", "enrolment", "denied"),
        ("claim.read", "79001/LK1", "invalid: x y", "denied"),  # audited though the purpose names none
    ]
