"""Settings of the notification service (environment variables prefixed NOTIFICATION_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from servicekit.settings import ServiceSettings


class NotificationSettings(ServiceSettings):
    """NOTIFICATION_* settings; the shared ones (DATABASE_URL, JWT_SECRET...) have no prefix."""

    model_config = SettingsConfigDict(
        env_prefix="NOTIFICATION_", extra="ignore", populate_by_name=True
    )

    port: int = Field(50053, ge=0, le=65535)

    # Live stream
    stream_heartbeat_seconds: float = Field(15.0, gt=0, le=300)
    stream_max_pending: int = Field(256, ge=1, le=100_000)
    # The LISTEN connection: reconnect delay after it drops, and how often an idle one is
    # probed (a silently dropped connection is noticed within this; until then announcements
    # could be missed, so keep it short: the unread-count cache trusts this connection).
    live_reconnect_delay_seconds: float = Field(1.0, gt=0, le=300)
    live_probe_interval_seconds: float = Field(5.0, gt=0, le=300)

    # Unread counts cached per process (least recently used beyond this); 0 = no cache.
    unread_cache_max_users: int = Field(100_000, ge=0, le=10_000_000)

    # Outgoing deliveries (webhook, email): retries with exponential backoff, then give up.
    delivery_max_attempts: int = Field(6, ge=1, le=50)
    delivery_base_delay_seconds: float = Field(1.0, gt=0, le=3600)
    delivery_max_delay_seconds: float = Field(300.0, gt=0, le=86_400)
    delivery_poll_interval_seconds: float = Field(2.0, gt=0, le=300)
    delivery_lease_seconds: float = Field(60.0, gt=0, le=3600)
    webhook_timeout_seconds: float = Field(10.0, gt=0, le=120)

    # Email: off unless NOTIFICATION_SMTP_HOST is set.
    smtp_host: str | None = None
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_sender: str = "notifications@localhost"
    smtp_use_tls: bool = False
    smtp_start_tls: bool | None = None  # unset: upgrade when the server offers STARTTLS
    smtp_timeout_seconds: float = Field(10.0, gt=0, le=120)
