"""Typed settings read from environment variables, shared by every service.

Fields common to all processes have no prefix (``DATABASE_URL``, ``JWT_SECRET``...);
a service's own fields take its prefix (``RISK_PORT``...), set by its subclass.
A bad value stops start-up with one clear line (see ``load_settings``).
"""

from __future__ import annotations

import os
import sys
from typing import Literal, TypeVar

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The development secret: accepted only when APP_ENV=local, so a deployment can never
# run with a secret that is printed in this repository.
LOCAL_DEV_JWT_SECRET = "local-development-jwt-secret-not-for-production-use"  # noqa: S105
MIN_JWT_SECRET_LENGTH = 32


def _common(name: str, default, **kwargs):
    """A field read from an unprefixed environment variable (shared by every service)."""
    return Field(default, validation_alias=AliasChoices(name), **kwargs)


class ServiceSettings(BaseSettings):
    """Settings every service and the gateway share. Subclasses add an env prefix."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    app_env: Literal["local", "dev", "staging", "prod"] = _common("APP_ENV", "local")
    database_url: str | None = _common("DATABASE_URL", None)
    pgserver_data_dir: str = _common("PGSERVER_DATA_DIR", ".data/postgres")
    jwt_secret: str = _common("JWT_SECRET", LOCAL_DEV_JWT_SECRET)
    jwt_jwks_url: str | None = _common("JWT_JWKS_URL", None)
    jwt_audience: str = _common("JWT_AUDIENCE", "authenticated")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = _common("LOG_LEVEL", "INFO")
    otel_exporter_otlp_endpoint: str | None = _common("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    risk_address: str = _common("RISK_ADDRESS", "127.0.0.1:50051")
    backtest_address: str = _common("BACKTEST_ADDRESS", "127.0.0.1:50052")
    notification_address: str = _common("NOTIFICATION_ADDRESS", "127.0.0.1:50053")
    executor_address: str = _common("EXECUTOR_ADDRESS", "127.0.0.1:50054")

    # Per-service fields: read with the subclass's prefix (RISK_HOST, RISK_PORT, ...).
    host: str = "127.0.0.1"
    port: int = Field(0, ge=0, le=65535)
    # Read from <PREFIX>DATABASE_URL (see _service_database_url_from_environment).
    service_database_url: str | None = None
    shutdown_grace_seconds: float = Field(10.0, gt=0, le=300)
    db_pool_min_size: int = Field(2, ge=1, le=100)
    db_pool_max_size: int = Field(10, ge=1, le=500)

    @model_validator(mode="before")
    @classmethod
    def _service_database_url_from_environment(cls, data: object) -> object:
        # The prefixed name (RISK_DATABASE_URL) reads better for operators than the field's
        # own (RISK_SERVICE_DATABASE_URL), and must not be shadowed by the shared DATABASE_URL.
        prefix = cls.model_config.get("env_prefix") or ""
        if isinstance(data, dict) and prefix and "service_database_url" not in data:
            value = os.environ.get(f"{prefix}DATABASE_URL")
            if value:
                data = {**data, "service_database_url": value}
        return data

    @field_validator("jwt_secret")
    @classmethod
    def _jwt_secret_long_enough(cls, value: str) -> str:
        if len(value) < MIN_JWT_SECRET_LENGTH:
            raise ValueError(f"must be at least {MIN_JWT_SECRET_LENGTH} characters")
        return value

    @model_validator(mode="after")
    def _no_development_secret_outside_local(self) -> ServiceSettings:
        if self.app_env != "local" and self.jwt_secret == LOCAL_DEV_JWT_SECRET:
            raise ValueError(
                "JWT_SECRET is the local development secret; set a real one outside APP_ENV=local"
            )
        return self


S = TypeVar("S", bound=BaseSettings)


class ConfigurationError(SystemExit):
    """Start-up stopped by a bad setting; the message is one line for the operator."""


def describe_validation_error(error: ValidationError, prefix: str = "") -> str:
    """One line naming every bad environment variable and why."""
    parts = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"]) or "settings"
        # Shared fields are located by their unprefixed alias (already upper case).
        name = location if location.isupper() else (prefix + location).upper()
        parts.append(f"{name}: {item['msg']}")
    return "invalid configuration: " + "; ".join(parts)


def load_settings(settings_class: type[S], **overrides) -> S:
    """Build settings from the environment or exit with one clear line (no traceback)."""
    try:
        return settings_class(**overrides)
    except ValidationError as error:
        prefix = settings_class.model_config.get("env_prefix", "") or ""
        print(describe_validation_error(error, prefix), file=sys.stderr)
        raise ConfigurationError(2) from None
