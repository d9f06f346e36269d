"""The application: the domains' routers over one database, behind bearer tokens, rate limits and
the audit log; errors as problem documents."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import Engine

from bhyt import __version__
from bhyt.api import problems
from bhyt.api.auth import authenticator
from bhyt.api.settings import Settings
from bhyt.claims.api import router as claims_router
from bhyt.policy.params import ParameterSet, default_parameters
from bhyt.registry.api import Index
from bhyt.registry.api import router as registry_router
from bhyt.security.audit import AuditLog
from bhyt.security.ratelimit import RateLimiter


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
        "audited.",
        lifespan=lifespan,
    )
    problems.install(app)
    principal = authenticator(settings.token_secret, RateLimiter(settings.rate_per_second, settings.rate_burst))
    app.include_router(claims_router(engine, principal, audit))
    app.include_router(registry_router(engine, params or default_parameters(), index, audit, principal))

    @app.get("/health", tags=["service"], summary="Liveness")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
