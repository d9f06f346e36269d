"""``POST /claims`` over HTTP on SQLite and PostgreSQL: receipts, FHIR in and out, problems, never a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bhyt.api.app import create_app
from bhyt.db import connect
from tests.api_support import ADMIN, SETTINGS
from tests.claims.test_parser import GOOD, GOOD2, envelope

FHIR_CLAIM = (Path(__file__).parent / "data" / "fhir-claim.json").read_bytes()


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    engine = connect(db_url)
    with TestClient(create_app(engine, SETTINGS), raise_server_exceptions=False, headers=ADMIN) as c:
        yield c
    engine.dispose()


def post(client: TestClient, data: bytes, kind: str = "application/xml", **params: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    response = client.post("/claims", content=data, headers={"content-type": kind}, params=params)
    return response.status_code, response.json()


def test_xml_file_gets_a_receipt_per_hoso(client: TestClient) -> None:
    code, body = post(client, envelope(GOOD, [("XML1", "%%%")], GOOD2), lang="en", name="day.xml")
    assert code == 200
    assert [(r["ma_lk"], r["status"]) for r in body["receipts"]] == [("LK1", "accepted"), (None, "rejected"),
                                                                      ("LK2", "accepted")]  # fmt: skip
    assert body["receipts"][1]["findings"][0]["code"] == "hoso.base64"
    assert post(client, envelope(GOOD))[1]["receipts"][0]["status"] == "duplicate"
    shown = client.get("/claims/92001/LK1").json()
    assert (shown["status"], shown["version"], shown["versions"][0]["kind"]) == ("active", 1, "accepted")


def test_unreadable_file_is_422_with_the_reason(client: TestClient) -> None:
    code, body = post(client, b"<GIAMDINHHS><unclosed>", lang="en")
    assert code == 422
    assert body["receipts"][0]["findings"][0]["code"] == "xml.syntax"


def test_fhir_claim_is_received_and_answered_with_a_claim_response(client: TestClient) -> None:
    code, body = post(client, FHIR_CLAIM, "application/fhir+json", lang="en")
    assert code == 200
    assert (body["resourceType"], body["outcome"]) == ("ClaimResponse", "queued")
    assert body["request"]["identifier"]["value"] == "79024-2025101500123"
    assert not body.get("error")
    assert all(n["text"] for n in body.get("processNote", []))  # warnings (fields FHIR does not carry) as notes
    shown = client.get("/claims/79024/79024-2025101500123").json()
    assert shown["status"] == "active"
    again = post(client, FHIR_CLAIM, "application/fhir+json")[1]
    assert again["disposition"].startswith("identical")


def test_fhir_withdrawal_by_cancelled_status(client: TestClient) -> None:
    post(client, FHIR_CLAIM, "application/fhir+json")
    bundle = json.loads(FHIR_CLAIM)
    next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "Claim")["resource"]["status"] = "cancelled"
    code, body = post(client, json.dumps(bundle).encode(), "application/fhir+json")
    assert (code, body["outcome"]) == (200, "complete")
    assert client.get("/claims/79024/79024-2025101500123").json()["status"] == "withdrawn"


@pytest.mark.parametrize(
    ("data", "path"),
    [
        (b"{not json", "$"),
        (b'{"resourceType": "Patient"}', "resourceType"),
        (b'{"resourceType": "Claim", "status": "active"}', "Claim"),
        (b'{"resourceType": "Bundle", "entry": []}', "Bundle.entry"),
        (b'{"resourceType": "Claim", "id": "x\\ud800"}', "$"),  # half a UTF-16 pair: not text
    ],
)
def test_unreadable_fhir_is_an_operation_outcome(client: TestClient, data: bytes, path: str) -> None:
    code, body = post(client, data, "application/fhir+json")
    assert code == 400
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["expression"] == [path]


def test_problems_are_problem_documents(client: TestClient) -> None:
    response = client.post("/claims", content=b"x", headers={"content-type": "text/plain"})
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"
    response = client.post("/claims", content=b"x", headers={"content-type": "application/xml"}, params={"lang": "fr"})
    assert (response.status_code, response.json()["title"]) == (422, "Invalid request")
    response = client.get("/claims/92001/nope")
    assert (response.status_code, response.json()["status"]) == (404, 404)


def test_openapi_documents_the_endpoint(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "post" in spec["paths"]["/claims"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300), kind=st.sampled_from(["application/xml", "application/fhir+json"]))
def test_no_input_gives_a_server_error(tmp_path_factory: pytest.TempPathFactory, data: bytes, kind: str) -> None:
    engine = connect(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'f.db'}")
    with TestClient(create_app(engine, SETTINGS), raise_server_exceptions=False, headers=ADMIN) as c:
        for body in (data, b"<GIAMDINHHS>" + data, b'{"resourceType": "Claim", ' + data):
            assert c.post("/claims", content=body, headers={"content-type": kind}).status_code < 500
    engine.dispose()


def test_a_citizen_reads_their_own_claim_and_no_one_elses(client: TestClient) -> None:
    from bhyt.security.roles import Role
    from tests.api_support import bearer
    from tests.claims.test_parser import XML1, inner

    mine = XML1.replace("</TONG_HOP>", "<MA_CCCD>079203001234</MA_CCCD></TONG_HOP>")
    assert post(client, envelope([("XML1", inner("XML1", mine))]))[0] == 200
    me, other = bearer(Role.CITIZEN, citizen_id="079203001234"), bearer(Role.CITIZEN, citizen_id="079203009999")
    assert client.get("/claims/92001/LK1", headers=me).json()["ma_lk"] == "LK1"
    refused, missing = client.get("/claims/92001/LK1", headers=other), client.get("/claims/92001/NOPE", headers=me)
    assert (refused.status_code, missing.status_code) == (403, 403)  # another's claim and no claim answer alike
    assert refused.json()["detail"] == missing.json()["detail"]
