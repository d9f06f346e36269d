"""The service's settings: one object, read from the environment and checked before serving."""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, Field, ValidationError

from bhyt.errors import BhytError


class SettingsError(BhytError):
    """Settings that the service cannot start with: which variable and why."""


class Settings(BaseModel):
    db_url: str = Field(default="sqlite:///bhyt.db", description="BHYT_DB_URL")
    token_secret: str = Field(min_length=32, description="BHYT_TOKEN_SECRET: signs the bearer tokens")
    rate_per_second: float = Field(default=200.0, gt=0, description="BHYT_RATE_PER_SECOND: per client")
    rate_burst: int = Field(default=400, ge=1, description="BHYT_RATE_BURST: per client")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **given: object) -> Settings:
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
