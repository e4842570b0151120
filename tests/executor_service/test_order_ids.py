"""Deterministic client order ids."""

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from executor_service.order_ids import client_order_id

STRATEGY = uuid.UUID("11111111-1111-4111-8111-111111111111")
BAR = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def test_client_order_id_when_same_inputs_is_identical_and_fits_alpaca_limit():
    first = client_order_id(STRATEGY, BAR, "dca-base")
    assert first == client_order_id(
        STRATEGY, BAR.astimezone(timezone(timedelta(hours=2))), "dca-base"
    )
    assert len(first) <= 48


def test_client_order_id_when_any_input_differs_is_different():
    base = client_order_id(STRATEGY, BAR, "dca-base")
    assert base != client_order_id(uuid.uuid4(), BAR, "dca-base")
    assert base != client_order_id(STRATEGY, BAR + timedelta(minutes=1), "dca-base")
    assert base != client_order_id(STRATEGY, BAR, "dca-safety-1")


def test_client_order_id_when_naive_time_raises():
    with pytest.raises(ValueError):
        client_order_id(STRATEGY, BAR.replace(tzinfo=None), "x")
