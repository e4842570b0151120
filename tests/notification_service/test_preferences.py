"""Which notifications are stored, and which channels carry them."""

from __future__ import annotations

import pytest

from notification_service.model import CRITICAL_TYPES, NotificationType
from notification_service.preferences import (
    DEFAULT_PREFERENCES,
    OutgoingChannel,
    Preferences,
    apply_update,
    channels_for,
    should_store,
)
from servicekit.errors import InvalidArgument

EVERYTHING_OFF = Preferences(notifications_enabled=False, muted_types=frozenset(NotificationType))


@pytest.mark.parametrize("kind", list(NotificationType))
def test_should_store_when_everything_muted_keeps_only_critical_types(kind):
    assert should_store(EVERYTHING_OFF, kind) == (kind in CRITICAL_TYPES)
    assert should_store(DEFAULT_PREFERENCES, kind)


def test_critical_types_are_strategy_paused_and_kill_switch():
    assert {NotificationType.STRATEGY_PAUSED, NotificationType.KILL_SWITCH} == CRITICAL_TYPES


def test_channels_for_when_type_muted_sends_nothing():
    preferences = Preferences(
        muted_types=frozenset({NotificationType.SYSTEM}),
        channels=frozenset({OutgoingChannel.EMAIL}),
        email_address="a@b.test",
    )
    assert channels_for(preferences, NotificationType.SYSTEM) == []
    assert channels_for(preferences, NotificationType.TRADE_EXECUTED) == [OutgoingChannel.EMAIL]


def test_apply_update_when_webhook_enabled_without_secret_names_the_secret():
    with pytest.raises(InvalidArgument) as refused:
        apply_update(
            DEFAULT_PREFERENCES,
            {"channels": {OutgoingChannel.WEBHOOK}, "webhook_url": "https://hooks.test/x"},
        )
    assert refused.value.field == "preferences.webhook_secret"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"webhook_url": "javascript:alert(1)"}, "preferences.webhook_url"),
        ({"webhook_url": "https://user:pw@hooks.test/x"}, "preferences.webhook_url"),
        ({"webhook_url": "http://0.0.0.0/x"}, "preferences.webhook_url"),
        ({"webhook_secret": "short"}, "preferences.webhook_secret"),
        ({"email_address": "not-an-address"}, "preferences.email_address"),
        ({"tier": "elite"}, "update_mask"),
    ],
)
def test_apply_update_when_value_bad_names_the_field(changes, field):
    with pytest.raises(InvalidArgument) as refused:
        apply_update(DEFAULT_PREFERENCES, changes)
    assert refused.value.field == field


def test_apply_update_when_empty_string_clears_the_destination():
    current = Preferences(email_address="a@b.test")
    assert apply_update(current, {"email_address": ""}).email_address is None
