"""Executor settings (env prefix EXECUTOR_)."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class ExecutorSettings(ServiceSettings):
    """Settings of the executor; every field reads EXECUTOR_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="EXECUTOR_", extra="ignore", populate_by_name=True)

    port: int = Field(50054, ge=0, le=65535)
    # Fernet key (urlsafe base64, 32 bytes) for broker credentials; unset = cannot store keys.
    credentials_key: str | None = Field(None, repr=False)

    # Bot runner.
    run_bots: bool = True
    # Bars replayed per bar interval: 1 = real time, 60 = a 1-minute bar every second.
    replay_speed: float = Field(60.0, gt=0, le=1_000_000)
    # A strategy further behind its feed than this (the executor was down) resumes from
    # where it was instead of replaying the missed bars in a burst.
    max_catch_up_bars: int = Field(500, ge=1)
    feed_seed: int = 42
    runner_poll_seconds: float = Field(1.0, gt=0, le=60)

    # Calls to other services.
    risk_deadline_seconds: float = Field(2.0, gt=0, le=30)
    notification_deadline_seconds: float = Field(2.0, gt=0, le=30)

    # Outbox relay.
    outbox_poll_seconds: float = Field(0.5, gt=0, le=60)
    outbox_batch_size: int = Field(50, ge=1, le=1000)
    outbox_max_backoff_seconds: float = Field(60.0, gt=0, le=3600)

    # Materialized view refresh.
    performance_refresh_seconds: float = Field(5.0, gt=0, le=3600)

    # Paper exchange.
    paper_starting_cash: Decimal = Field(Decimal("100000"), gt=0)
    paper_fee_bps: Decimal = Field(Decimal("10"), ge=0, le=1000)
    paper_slippage_bps: Decimal = Field(Decimal("5"), ge=0, le=1000)
    # An order larger than this share of a bar's volume fills over several bars.
    paper_max_volume_fraction: Decimal = Field(Decimal("0.1"), gt=0, le=1)

    # Alpaca: the paper endpoint unless explicitly live (and the profile is not in paper mode).
    alpaca_live_enabled: bool = False
    alpaca_base_url: str | None = None  # override (tests point it at a local server)
    broker_default: Literal["paper", "alpaca"] = "paper"
