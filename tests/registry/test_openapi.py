"""schemathesis against the service's own OpenAPI document: generated requests to every endpoint
(with an admin token, on a loaded registry) never get a 5xx, and answers match the schema."""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from bhyt.api.app import create_app
from bhyt.db import connect
from bhyt.policy.params import default_parameters
from bhyt.registry.load import load_registry
from bhyt.synth.run import SynthConfig, synthesize
from tests.api_support import ADMIN, SETTINGS


def _app() -> object:
    out = Path(tempfile.mkdtemp(prefix="bhyt-openapi-"))
    synthesize(SynthConfig(people=100, year=2025, seed=2, out=out / "nation", provinces=["01"]))
    engine = connect(f"sqlite:///{out / 'api.db'}")
    load_registry(engine, out / "nation" / "registry", default_parameters())
    return create_app(engine, SETTINGS)


APP = _app()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_answers_match_the_schema(case: Case) -> None:
    case.call_and_validate(headers=ADMIN, checks=[not_a_server_error, response_schema_conformance])


def test_the_schema_documents_every_router() -> None:
    paths = set(schema.raw_schema["paths"])
    assert {"/eligibility", "/fhir/CoverageEligibilityRequest", "/registry/people/{citizen_id}", "/claims"} <= paths
