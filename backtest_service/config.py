"""Settings of the backtest service (env prefix ``BACKTEST_``)."""

from __future__ import annotations

import datetime as dt

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class BacktestSettings(ServiceSettings):
    """Everything the backtest service and its workers read from the environment."""

    model_config = SettingsConfigDict(env_prefix="BACKTEST_", extra="ignore", populate_by_name=True)

    port: int = Field(50052, ge=0, le=65535)

    # Workers: each replica runs up to worker_concurrency jobs at once in threads.
    worker_enabled: bool = True
    worker_concurrency: int = Field(1, ge=1, le=64)
    worker_poll_interval_seconds: float = Field(0.5, gt=0, le=60)
    # A running job's lease; a worker renews it every heartbeat. A job whose lease ran out
    # (its worker died) is claimed again by any worker, up to max_attempts times in all.
    lease_seconds: float = Field(30.0, gt=0, le=3600)
    heartbeat_interval_seconds: float = Field(1.0, gt=0, le=600)
    max_attempts: int = Field(3, ge=1, le=20)

    # A finished job's notification not confirmed after this long is sent again (a worker
    # died between storing the result and notifying, or the notification service was down).
    notify_retry_after_seconds: float = Field(30.0, ge=0, le=86400)

    # Watchers fall back to reading the row this often if a notification was missed.
    watch_poll_interval_seconds: float = Field(2.0, gt=0, le=60)

    # Deadlines of calls to the risk and notification services.
    risk_deadline_seconds: float = Field(2.0, gt=0, le=60)
    notification_deadline_seconds: float = Field(2.0, gt=0, le=60)

    # The standard period of the marketplace's verification backtest: the synthetic feed
    # over one fixed year, so every listing is measured on the same data.
    verification_start: dt.datetime = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
    verification_end: dt.datetime = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    verification_seed: int = 20230101
    verification_timeframe: str = Field("1h", pattern=r"^(1m|5m|15m|1h|1d)$")
