"""Gateway settings (env prefix GATEWAY_), on top of the settings every process shares."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    """Settings of the HTTP gateway; every field reads GATEWAY_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore", populate_by_name=True)

    port: int = Field(8080, ge=0, le=65535)

    # Browsers' origins allowed to call the API (JSON list, e.g. '["http://localhost:3000"]').
    cors_origins: list[str] = Field(default_factory=list)
    # Addresses whose X-Forwarded-For is trusted (uvicorn's forwarded_allow_ips).
    forwarded_allow_ips: str = "127.0.0.1"

    # Deadlines of calls to the services (seconds).
    call_deadline_seconds: float = Field(2.0, gt=0, le=60)
    # Streams (backtest progress, notifications) end after this; browsers reconnect.
    stream_deadline_seconds: float = Field(1800.0, gt=0, le=86_400)
    # SSE keep-alive comment interval, so idle proxies keep the connection open.
    sse_ping_seconds: float = Field(15.0, gt=0, le=300)
    # What a browser waits before reconnecting a dropped SSE stream.
    sse_retry_milliseconds: int = Field(3000, ge=100, le=600_000)

    # Token buckets (in-process: each replica counts on its own).
    backtest_rate_per_minute: float = Field(6.0, gt=0)
    backtest_burst: int = Field(3, ge=1)
    publish_rate_per_minute: float = Field(2.0, gt=0)
    publish_burst: int = Field(2, ge=1)
    anonymous_rate_per_minute: float = Field(120.0, gt=0)
    anonymous_burst: int = Field(30, ge=1)
    rate_limit_max_keys: int = Field(100_000, ge=100)

    # /readyz also opens a connection to the database (DATABASE_URL, or the embedded one).
    readiness_checks_database: bool = True
    readiness_timeout_seconds: float = Field(2.0, gt=0, le=30)
