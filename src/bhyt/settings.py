"""Settings: one object for every command and the service, read from the environment (``BHYT_*``)
with what a command's options give on top, and checked before any work starts.

One object so that one shell cannot write one database and serve another: ``bhyt ingest``,
``bhyt registry``, ``bhyt assess --db`` and ``bhyt serve`` all read ``BHYT_DB_URL`` the same way.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, Field, ValidationError

from bhyt.errors import SettingsError

DEFAULT_DB_URL = "sqlite:///bhyt.db"
SECRET_LENGTH = 32


class Settings(BaseModel):
    db_url: str = Field(default=DEFAULT_DB_URL, min_length=1, description="BHYT_DB_URL")
    # Checked only where tokens are signed or checked (serve, token): a command that needs no secret
    # does not fail on a bad one in the environment.
    token_secret: str | None = Field(default=None, description="BHYT_TOKEN_SECRET: signs the bearer tokens")
    rate_per_second: float = Field(default=200.0, gt=0, description="BHYT_RATE_PER_SECOND: per client")
    rate_burst: int = Field(default=400, ge=1, description="BHYT_RATE_BURST: per client")
    instance: str | None = Field(default=None, max_length=64, description="BHYT_INSTANCE: echoed by /health")
    audit_durable: bool = Field(
        default=False,
        description="BHYT_AUDIT_DURABLE: answer a request only once its audit entries are committed (kill -9 "
        "loses none); off by default: on SQLite each answer then waits for a commit, a third of the card checks' rate",
    )
    max_rows: int = Field(default=20_000, ge=1, description="BHYT_MAX_ROWS: rows of one table of one HOSO")
    max_findings: int = Field(default=200, ge=1, description="BHYT_MAX_FINDINGS: findings of one HOSO")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **given: object) -> Settings:
        """The environment's ``BHYT_<NAME>`` values, overridden by the ``given`` ones that are not None."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for name in cls.model_fields:
            key = f"BHYT_{name.upper()}"
            if key in env:
                values[name] = env[key]
        values.update({k: v for k, v in given.items() if v is not None})
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            reasons = "; ".join(f"BHYT_{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
            raise SettingsError(f"settings not valid: {reasons}") from None

    def secret(self) -> str:
        """The token secret, which signing and checking tokens need; a clear error without it."""
        if self.token_secret is None or len(self.token_secret) < SECRET_LENGTH:
            state = "is not set" if self.token_secret is None else f"is shorter than {SECRET_LENGTH} characters"
            raise SettingsError(
                f"settings not valid: BHYT_TOKEN_SECRET {state}: it signs the bearer tokens "
                "(e.g. export BHYT_TOKEN_SECRET=$(openssl rand -hex 32))"
            )
        return self.token_secret
