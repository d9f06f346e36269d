"""The HTTP plumbing every router shares, below the routers and importing none: the bearer-token
dependency (verified, rate limited per subject), the ``X-Purpose`` header, and errors as RFC 9457
problem documents (``application/problem+json``) whose ``type`` names the error's code.

Which domain error answers with which status is decided where the application is assembled
(``bhyt.api.app``), not here: this module knows no domain.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from bhyt.errors import BhytError, problem_type
from bhyt.security.purposes import Purpose, PurposeError, parse_purpose
from bhyt.security.ratelimit import RateLimiter
from bhyt.security.roles import Principal
from bhyt.security.tokens import TokenError, expiry, verify

PROBLEM = "application/problem+json"

# The code of a problem that no domain error raised, by HTTP status.
STATUS_CODES = {
    400: "http.bad_request",
    401: "auth.unauthenticated",
    403: "auth.forbidden",
    404: "http.not_found",
    405: "http.method_not_allowed",
    409: "http.conflict",
    413: "http.too_large",
    415: "http.unsupported_media_type",
    422: "http.invalid_request",
    429: "http.rate_limited",
    503: "db.unavailable",
}


def problem(status: int, title: str, detail: str, code: str | None = None, **extra: Any) -> JSONResponse:
    """A problem document; ``code`` (default: the status's) becomes its ``type``."""
    code = code or STATUS_CODES.get(status, "http.error")
    body = {"type": problem_type(code), "title": title, "status": status, "detail": detail, "code": code, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


class Unauthorized(HTTPException):
    def __init__(self, detail: str) -> None:
        super().__init__(401, detail, headers={"WWW-Authenticate": "Bearer"})


def authenticator(secret: str, limiter: RateLimiter) -> Callable[[Request], Awaitable[Principal]]:
    """The dependency that turns a bearer token into its principal, rate limited by subject."""
    # A counter checks many cards with one token: its signature is verified once, its expiry every time.
    verified: dict[str, tuple[Principal, float]] = {}

    def check(token: str) -> Principal:
        hit = verified.get(token)
        if hit is not None and hit[1] > time.time():
            return hit[0]
        who = verify(secret, token)
        if len(verified) > 10_000:
            verified.clear()
        verified[token] = (who, expiry(token))
        return who

    async def principal(request: Request) -> Principal:  # no I/O: run on the event loop, not a thread
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("send Authorization: Bearer <token> (bhyt token issues one)")
        try:
            who = check(token.strip())
        except TokenError as exc:
            raise Unauthorized(str(exc)) from None
        request.state.subject = who.subject  # for the access log
        wait = limiter.allow(who.subject)
        if wait > 0:
            raise HTTPException(429, "Too many requests", headers={"Retry-After": str(max(1, round(wait)))})
        return who

    return principal


def purpose(request: Request, default: Purpose) -> str:
    """Why the data is read or changed (the X-Purpose header, a purpose code), for the audit log;
    an unknown code raises :class:`PurposeError` (answered 400 where the app is assembled)."""
    return parse_purpose(request.headers.get("x-purpose"), default)


def stated_purpose(request: Request, default: Purpose) -> str:
    """The purpose to record for a refusal: the stated one, or the unknown text marked as such, so that
    a denied read is audited whatever the header says."""
    try:
        return purpose(request, default)
    except PurposeError:
        return f"invalid: {' '.join((request.headers.get('x-purpose') or '').split())[:60]}"


def language(request: Request, given: str | None = None) -> Literal["vi", "en"]:
    """The answer's language: ``given`` (a ``lang`` parameter) when it names one, else the preferred of
    Vietnamese and English in ``Accept-Language`` (by q-value), else Vietnamese."""
    if given in ("vi", "en"):
        return "en" if given == "en" else "vi"
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(request.headers.get("accept-language", "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        base = tag.strip().lower().split("-")[0]
        if base in ("vi", "en") and q > 0:
            ranked.append((-q, i, base))
    return "en" if ranked and min(ranked)[2] == "en" else "vi"


def install(app: FastAPI, answers: Mapping[type[BhytError], tuple[int, str]]) -> None:
    """Answer every error the application can meet as a problem document: each domain error class
    in ``answers`` with its (status, title) — the most specific class wins — and any other BhytError
    as a 422 with its code."""
    ordered = sorted(answers.items(), key=lambda kv: -len(kv[0].__mro__))

    async def domain_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, BhytError)
        status, title = next(((s, t) for cls, (s, t) in ordered if isinstance(exc, cls)), (422, "Refused"))
        status = getattr(exc, "status", status)  # an error that knows its answer (the registry's rules)
        return problem(status, title, str(exc), exc.code)

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        response = problem(exc.status_code, str(exc.detail), str(exc.detail))
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response

    async def invalid(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [{"where": ".".join(str(p) for p in e["loc"]), "why": e["msg"]} for e in exc.errors()]
        return problem(422, "Invalid request", "; ".join(f"{e['where']}: {e['why']}" for e in errors), errors=errors)

    async def storage(_: Request, exc: Exception) -> JSONResponse:
        return problem(503, "Storage unavailable", "the claims store cannot be reached; nothing was acknowledged")

    app.add_exception_handler(BhytError, domain_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(OperationalError, storage)
