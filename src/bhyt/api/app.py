"""The application: the routers over one database, behind bearer tokens, rate limits and the audit
log. Here, and only here, each domain's errors are mapped to the HTTP answers they get."""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import Engine

from bhyt import __version__
from bhyt.api import http
from bhyt.api.claims import router as claims_router
from bhyt.api.http import STATUS_CODES, problem
from bhyt.api.registry import Index
from bhyt.api.registry import router as registry_router
from bhyt.assessment.backends import EngineUnavailableError
from bhyt.assessment.inputs import InputError
from bhyt.claims.fhir import FhirError
from bhyt.claims.parser import Limits
from bhyt.errors import BhytError, DatabaseError, PolicyInputError, SettingsError
from bhyt.policy.params import ParameterNotFoundError, ParameterSet, default_parameters
from bhyt.registry.fhir import FhirInputError
from bhyt.registry.lifecycle import RULE_CODES, RegistryRuleError
from bhyt.registry.service import PersonNotFoundError
from bhyt.security.audit import AuditLog
from bhyt.security.purposes import PurposeError
from bhyt.security.ratelimit import RateLimiter
from bhyt.security.tokens import TokenError
from bhyt.settings import Settings

log = logging.getLogger("bhyt.serve")
AUDIT_WAIT_SECONDS = 10.0

# (status, title) of each domain error; the most specific class wins, any other BhytError is a 422.
ANSWERS: dict[type[BhytError], tuple[int, str]] = {
    PolicyInputError: (422, "Cannot be priced by the rules"),
    ParameterNotFoundError: (422, "No rules in force on that date"),
    RegistryRuleError: (422, "Refused by the registry's rules"),
    PersonNotFoundError: (404, "Not found"),
    FhirError: (400, "Not a claim resource BHYT reads"),
    FhirInputError: (400, "Not an eligibility request BHYT reads"),
    InputError: (422, "Cannot be assessed"),
    PurposeError: (400, "Unknown purpose"),
    TokenError: (401, "Unauthenticated"),
    DatabaseError: (503, "Storage unavailable"),
    SettingsError: (500, "Service misconfigured"),
    EngineUnavailableError: (503, "Engine unavailable"),
}


def error_codes() -> dict[str, str]:
    """Every problem code the API can answer with, and what it means (the error's docstring)."""
    found: dict[str, str] = {code: f"HTTP {status}" for status, code in STATUS_CODES.items()} | RULE_CODES
    found["audit.unavailable"] = "the audit log could not be written in time: nothing was answered"
    todo: list[type[BhytError]] = [BhytError]
    while todo:
        cls = todo.pop()
        found.setdefault(cls.code, inspect.getdoc(cls) or cls.__name__)
        todo.extend(cls.__subclasses__())
    return found


def create_app(engine: Engine, settings: Settings, params: ParameterSet | None = None) -> FastAPI:
    """The BHYT API over ``engine`` (already migrated: see :func:`bhyt.db.connect`)."""
    audit = AuditLog(engine)
    index = Index(engine)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        audit.close()  # what is queued is written before the service stops

    app = FastAPI(
        title="BHYT",
        version=__version__,
        description="National health insurance: card checks, the registry, claims intake (QĐ 130/4750 XML and "
        "FHIR R4). Every endpoint but /health takes a bearer token (bhyt token); reads of personal data are "
        "audited. Errors are problem documents whose `type` is `/problems/<code>`.",
        lifespan=lifespan,
    )
    http.install(app, ANSWERS)
    principal = http.authenticator(settings.secret(), RateLimiter(settings.rate_per_second, settings.rate_burst))
    limits = Limits(max_rows=settings.max_rows, max_findings=settings.max_findings)
    app.include_router(claims_router(engine, principal, audit, limits, index.holder))
    app.include_router(registry_router(engine, params or default_parameters(), index, audit, principal))
    codes = error_codes()

    async def audited(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        # Answered only once what it recorded in the audit log is committed: kill -9 loses no entry of an
        # answered request. (Entries of others queued meanwhile are waited for too: one group commit.)
        response = await call_next(request)
        try:
            await asyncio.wait_for(audit.durable(audit.queued), AUDIT_WAIT_SECONDS)
        except TimeoutError:  # the log cannot be written: nothing is answered that it does not hold
            return problem(
                503, "Audit log unavailable", "the audit log cannot be written; try again", "audit.unavailable"
            )
        return response

    if settings.audit_durable:
        app.middleware("http")(audited)

    @app.middleware("http")
    async def access_log(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        # Method, route, status, time and the token's subject. The route's template, not the path: a path
        # holds citizen IDs and card numbers (/registry/people/{citizen_id}); never a query or a body.
        start = time.perf_counter()
        response = await call_next(request)
        who = getattr(request.state, "subject", "-")
        ms = (time.perf_counter() - start) * 1000
        route = getattr(request.scope.get("route"), "path", "-")
        log.info("%s %s %d %.1fms %s", request.method, route, response.status_code, ms, who)
        return response

    @app.get("/health", tags=["service"], summary="Liveness")
    async def health() -> dict[str, str]:
        # ``instance`` (BHYT_INSTANCE) lets whoever started this server tell it from another on the port.
        return {"status": "ok", "service": "bhyt", "version": __version__, "instance": settings.instance or ""}

    @app.get("/problems/{code}", tags=["service"], summary="What a problem type means")
    async def problem_doc(code: str) -> Response:
        if code not in codes:
            return problem(404, "Not found", f"no problem type {code[:60]!r}")
        return JSONResponse({"code": code, "meaning": codes[code]})

    return app
