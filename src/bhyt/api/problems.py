"""Errors as RFC 9457 problem details (``application/problem+json``), never a bare 500."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException

from bhyt.errors import PolicyInputError
from bhyt.policy.params import ParameterNotFoundError
from bhyt.registry.lifecycle import RegistryRuleError

PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def install(app: FastAPI) -> None:
    """Answer every error the application can meet as a problem document."""

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        return problem(exc.status_code, str(exc.detail), str(exc.detail))

    async def invalid(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [{"where": ".".join(str(p) for p in e["loc"]), "why": e["msg"]} for e in exc.errors()]
        return problem(422, "Invalid request", "; ".join(f"{e['where']}: {e['why']}" for e in errors), errors=errors)

    async def storage(_: Request, exc: Exception) -> JSONResponse:
        return problem(503, "Storage unavailable", "the claims store cannot be reached; nothing was acknowledged")

    async def unpriceable(_: Request, exc: Exception) -> JSONResponse:
        return problem(422, "Cannot be priced by the rules", str(exc))

    async def no_rules(_: Request, exc: Exception) -> JSONResponse:
        return problem(422, "No rules in force on that date", str(exc))

    async def refused(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RegistryRuleError)
        return problem(exc.status, "Refused by the registry's rules", str(exc), code=exc.code)

    app.add_exception_handler(PolicyInputError, unpriceable)
    app.add_exception_handler(ParameterNotFoundError, no_rules)
    app.add_exception_handler(RegistryRuleError, refused)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(OperationalError, storage)
