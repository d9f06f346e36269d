"""The application: the domains' routers over one database, errors as problem documents."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import Engine

from bhyt import __version__
from bhyt.api import problems
from bhyt.claims.api import router as claims_router


def create_app(engine: Engine) -> FastAPI:
    """The BHYT API over ``engine`` (already migrated: see :func:`bhyt.db.connect`)."""
    app = FastAPI(
        title="BHYT", version=__version__,
        description="Claims intake (QĐ 130/4750 XML and FHIR R4) for the national health insurance scheme.",
    )  # fmt: skip
    problems.install(app)
    app.include_router(claims_router(engine))

    @app.get("/health", tags=["service"], summary="Liveness")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
