"""Settings of the risk service (environment variables with the prefix RISK_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from risk_service.ledger import DEFAULT_LINGER_SECONDS
from servicekit.settings import ServiceSettings


class RiskSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RISK_", extra="ignore", populate_by_name=True)

    port: int = Field(50051, ge=0, le=65535)
    # Backstop only: changes reach every replica at once through LISTEN/NOTIFY.
    cache_max_age_seconds: float = Field(60.0, gt=0, le=3600)
    # Approved client order ids are remembered this long (duplicate detection).
    ledger_retention_days: int = Field(30, ge=1, le=3650)
    prune_interval_seconds: float = Field(3600.0, gt=0)
    # Under load, a ledger batch waits this long for company (group commit); an order
    # that finds the ledger idle never waits. See risk_service/ledger.py.
    ledger_linger_ms: float = Field(DEFAULT_LINGER_SECONDS * 1000, ge=0, le=100)
