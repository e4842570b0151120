"""Outgoing channels (webhook, email) behind one small interface; see ``base``."""

from notification_service.channels.base import (
    Channel,
    DeliveryError,
    PermanentDeliveryError,
    RetryableDeliveryError,
    RetryPolicy,
)

__all__ = [
    "Channel",
    "DeliveryError",
    "PermanentDeliveryError",
    "RetryPolicy",
    "RetryableDeliveryError",
]
