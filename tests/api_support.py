"""Test helpers for the HTTP service: settings with a test secret, tokens for each role."""

from __future__ import annotations

from bhyt.security.roles import Principal, Role
from bhyt.security.tokens import issue
from bhyt.settings import Settings

SECRET = "test-secret-" + "x" * 32
SETTINGS = Settings(token_secret=SECRET, rate_per_second=10_000, rate_burst=10_000)


def bearer(role: Role, **scope: str) -> dict[str, str]:
    """An Authorization header for ``role`` with its scope (facility, province, citizen_id)."""
    who = Principal(subject=f"test-{role.value}", role=role, **scope)
    return {"authorization": f"Bearer {issue(SECRET, who)}"}


ADMIN = bearer(Role.ADMIN)
