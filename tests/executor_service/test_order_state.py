"""Order state machine: every broker status handled, never backwards (property-tested)."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from executor_service.order_state import (
    TERMINAL,
    OrderState,
    OrderStatus,
    apply_report,
    is_terminal,
    parse_broker_status,
)

ALPACA_STATUSES = [
    "new",
    "partially_filled",
    "filled",
    "done_for_day",
    "canceled",
    "expired",
    "replaced",
    "pending_cancel",
    "pending_replace",
    "accepted",
    "pending_new",
    "accepted_for_bidding",
    "stopped",
    "rejected",
    "suspended",
    "calculated",
]

quantities = st.decimals(min_value=Decimal("0.001"), max_value=Decimal(1000), places=3)
reports = st.lists(
    st.tuples(
        st.sampled_from(list(OrderStatus)),
        st.decimals(min_value=Decimal(0), max_value=Decimal(2000), places=3),
    ),
    max_size=30,
)


def test_parse_broker_status_when_any_alpaca_status_maps_to_ours():
    from alpaca.trading.enums import OrderStatus as AlpacaStatus

    for status in AlpacaStatus:
        assert parse_broker_status(status).value == status.value
    for text in ALPACA_STATUSES:
        assert parse_broker_status(text.upper()).value == text


def test_parse_broker_status_when_unknown_raises_value_error():
    with pytest.raises(ValueError):
        parse_broker_status("teleported")


@given(quantities, reports)
def test_apply_report_when_any_sequence_terminal_never_changes_and_fill_never_decreases(
    quantity, sequence
):
    state = OrderState(OrderStatus.PENDING_SUBMIT, Decimal(0), quantity)
    terminal_seen = None
    for status, filled in sequence:
        before = state
        state = apply_report(state, status, filled)
        assert state.filled_qty >= before.filled_qty
        assert state.filled_qty <= quantity
        if terminal_seen is not None:
            assert state.status == terminal_seen
        if is_terminal(state.status):
            terminal_seen = terminal_seen or state.status


@given(quantities, st.sampled_from(sorted(TERMINAL)), st.sampled_from(list(OrderStatus)))
def test_apply_report_when_order_terminal_status_is_kept(quantity, terminal, later):
    state = OrderState(terminal, Decimal(0), quantity)
    assert apply_report(state, later, Decimal(0)).status == terminal


def test_apply_report_when_fully_filled_but_reported_open_becomes_filled():
    state = OrderState(OrderStatus.NEW, Decimal(0), Decimal(2))
    assert apply_report(state, OrderStatus.NEW, Decimal(2)).status == OrderStatus.FILLED


def test_apply_report_when_stale_new_after_partial_fill_stays_partially_filled():
    state = OrderState(OrderStatus.PARTIALLY_FILLED, Decimal(1), Decimal(2))
    after = apply_report(state, OrderStatus.NEW, Decimal(0))
    assert after == OrderState(OrderStatus.PARTIALLY_FILLED, Decimal(1), Decimal(2))
