"""Bootstrap only: build the store, channels, dispatcher and live feed; register them."""

from __future__ import annotations

from notification_service.channels.base import Channel, RetryPolicy
from notification_service.channels.email import EmailChannel, SmtpServer
from notification_service.channels.webhook import WebhookChannel
from notification_service.config import NotificationSettings
from notification_service.dispatcher import DeliveryDispatcher
from notification_service.live import LiveFeed
from notification_service.preferences import OutgoingChannel
from notification_service.service import NotificationServicer, add_to_server
from notification_service.store import NotificationStore
from notification_service.unread_cache import UnreadCountCache
from servicekit.server import ServiceApp


def outgoing_channels(settings: NotificationSettings) -> dict[OutgoingChannel, Channel]:
    """The channels this deployment can send through (email only with an SMTP host)."""
    channels: dict[OutgoingChannel, Channel] = {
        OutgoingChannel.WEBHOOK: WebhookChannel(timeout_seconds=settings.webhook_timeout_seconds)
    }
    if settings.smtp_host:
        channels[OutgoingChannel.EMAIL] = EmailChannel(
            SmtpServer(
                host=settings.smtp_host,
                port=settings.smtp_port,
                sender=settings.smtp_sender,
                username=settings.smtp_username,
                password=settings.smtp_password,
                use_tls=settings.smtp_use_tls,
                start_tls=settings.smtp_start_tls,
                timeout_seconds=settings.smtp_timeout_seconds,
            )
        )
    return channels


async def build(app: ServiceApp) -> None:
    settings = app.settings
    assert isinstance(settings, NotificationSettings)
    # The store tells the cache of this replica's own writes; the live feed of everyone's.
    unread_cache = UnreadCountCache(max_users=settings.unread_cache_max_users)
    store = NotificationStore(app.pool, on_unread_change=unread_cache.invalidate)
    dispatcher = DeliveryDispatcher(
        store,
        outgoing_channels(settings),
        RetryPolicy(
            max_attempts=settings.delivery_max_attempts,
            base_delay=settings.delivery_base_delay_seconds,
            max_delay=settings.delivery_max_delay_seconds,
        ),
        poll_interval=settings.delivery_poll_interval_seconds,
        lease_seconds=settings.delivery_lease_seconds,
    )
    live = LiveFeed(
        app.pool,
        store.get,
        max_pending=settings.stream_max_pending,
        reconnect_delay=settings.live_reconnect_delay_seconds,
        probe_interval=settings.live_probe_interval_seconds,
        watchers=(unread_cache,),
    )
    servicer = NotificationServicer(
        store,
        unread_cache,
        live,
        dispatcher,
        heartbeat_seconds=settings.stream_heartbeat_seconds,
    )
    app.add_service_name(add_to_server(servicer, app.server))
    app.add_background(live.run)
    app.add_background(dispatcher.run)
    app.on_shutdown(dispatcher.close)
