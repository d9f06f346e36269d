"""Signed bearer tokens (JWT, HS256): issued by ``bhyt token``, checked on every request."""

from __future__ import annotations

import time

import jwt

from bhyt.errors import BhytError
from bhyt.security.roles import Principal, Role

ISSUER = "bhyt"


class TokenError(BhytError):
    """A token that is missing, malformed, expired or not signed by us."""

    code = "auth.token"


def issue(secret: str, principal: Principal, ttl_seconds: int = 8 * 3600, now: float | None = None) -> str:
    at = int(now if now is not None else time.time())
    claims = {"iss": ISSUER, "sub": principal.subject, "role": principal.role.value, "iat": at, "exp": at + ttl_seconds}
    for key in ("facility", "province", "citizen_id"):
        value = getattr(principal, key)
        if value:
            claims[key] = value
    return jwt.encode(claims, secret, algorithm="HS256")


def verify(secret: str, token: str) -> Principal:
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], issuer=ISSUER, options={"require": ["exp", "sub"]})
    except jwt.ExpiredSignatureError:
        raise TokenError("the token has expired") from None
    except jwt.PyJWTError as exc:
        raise TokenError(f"the token is not valid: {exc}") from None
    try:
        return Principal(
            subject=str(claims["sub"]),
            role=Role(str(claims.get("role", ""))),
            facility=claims.get("facility"),
            province=claims.get("province"),
            citizen_id=claims.get("citizen_id"),
        )
    except ValueError as exc:
        raise TokenError(f"the token's role or scope is not valid: {exc}") from None


def expiry(token: str) -> float:
    """When a token (already verified) expires, in seconds since the epoch."""
    return float(jwt.decode(token, options={"verify_signature": False})["exp"])
