"""Every request but /health and the docs carries a bearer token; its principal is checked, rate
limited, and handed to the endpoint, which decides what that principal may see and audits it."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import HTTPException, Request

from bhyt.security.purposes import Purpose, PurposeError, parse_purpose
from bhyt.security.ratelimit import RateLimiter
from bhyt.security.roles import Principal
from bhyt.security.tokens import TokenError, expiry, verify


class Unauthorized(HTTPException):
    def __init__(self, detail: str) -> None:
        super().__init__(401, detail, headers={"WWW-Authenticate": "Bearer"})


def authenticator(secret: str, limiter: RateLimiter) -> Callable[[Request], Awaitable[Principal]]:
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
        wait = limiter.allow(who.subject)
        if wait > 0:
            raise HTTPException(429, "Too many requests", headers={"Retry-After": str(max(1, round(wait)))})
        return who

    return principal


def purpose(request: Request, default: Purpose) -> str:
    """Why the data is read or changed (the X-Purpose header, a purpose code), for the audit log;
    an unknown code is a 400."""
    try:
        return parse_purpose(request.headers.get("x-purpose"), default)
    except PurposeError as exc:
        raise HTTPException(400, str(exc)) from None
