"""Order state machine: every broker order status, applied so history never goes back.

Rules (property-tested): a terminal status never changes; the filled quantity never
decreases and never exceeds the order quantity; a later report can only move an order
forward. Broker statuses are Alpaca's names; the paper exchange uses a subset.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class OrderStatus(StrEnum):
    PENDING_SUBMIT = "pending_submit"  # ours: written, not yet acknowledged by the broker
    PENDING_NEW = "pending_new"
    PENDING_REVIEW = "pending_review"
    HELD = "held"
    ACCEPTED = "accepted"
    ACCEPTED_FOR_BIDDING = "accepted_for_bidding"
    NEW = "new"
    CALCULATED = "calculated"
    SUSPENDED = "suspended"
    PENDING_CANCEL = "pending_cancel"
    PENDING_REPLACE = "pending_replace"
    PARTIALLY_FILLED = "partially_filled"
    DONE_FOR_DAY = "done_for_day"
    STOPPED = "stopped"
    FILLED = "filled"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REJECTED = "rejected"
    REPLACED = "replaced"


TERMINAL = frozenset(
    {
        OrderStatus.FILLED,
        OrderStatus.CANCELED,
        OrderStatus.EXPIRED,
        OrderStatus.REJECTED,
        OrderStatus.REPLACED,
    }
)

# How far along an order is; a report with a lower rank than the current one is stale
# (reports can arrive out of order from polling and a stream).
_RANK: dict[OrderStatus, int] = {
    OrderStatus.PENDING_SUBMIT: 0,
    OrderStatus.PENDING_NEW: 1,
    OrderStatus.PENDING_REVIEW: 1,
    OrderStatus.HELD: 3,
    OrderStatus.ACCEPTED: 2,
    OrderStatus.ACCEPTED_FOR_BIDDING: 2,
    OrderStatus.NEW: 3,
    OrderStatus.CALCULATED: 3,
    OrderStatus.SUSPENDED: 3,
    OrderStatus.PENDING_REPLACE: 4,
    OrderStatus.PENDING_CANCEL: 4,
    OrderStatus.PARTIALLY_FILLED: 5,
    OrderStatus.DONE_FOR_DAY: 5,
    OrderStatus.STOPPED: 5,
}


def is_terminal(status: OrderStatus) -> bool:
    return status in TERMINAL


def parse_broker_status(value: str) -> OrderStatus:
    """Map a broker's status string (any case, Alpaca's enum value) to ours.

    An unknown status is reported as ValueError so the caller can flag the order instead
    of guessing.
    """
    text = str(getattr(value, "value", value)).strip().lower()
    return OrderStatus(text)


@dataclass(frozen=True)
class OrderState:
    status: OrderStatus
    filled_qty: Decimal
    quantity: Decimal


def apply_report(current: OrderState, status: OrderStatus, filled_qty: Decimal) -> OrderState:
    """The order's state after a broker report (``status``, cumulative ``filled_qty``).

    Stale or contradicting reports never move an order backwards: a terminal order keeps
    its status, the filled quantity is the maximum seen (capped at the order quantity),
    and a non-terminal status lower in rank than the current one is ignored.
    """
    filled = min(max(current.filled_qty, filled_qty), current.quantity)
    if is_terminal(current.status):
        return OrderState(current.status, filled, current.quantity)
    if is_terminal(status):
        new_status = status
    elif filled >= current.quantity:
        # All filled but the report still says open: the fill is the fact.
        new_status = OrderStatus.FILLED
    elif _RANK[status] >= _RANK[current.status]:
        new_status = status
    else:
        new_status = current.status
    if new_status in (OrderStatus.NEW, OrderStatus.ACCEPTED, OrderStatus.PENDING_NEW) and (
        filled > 0
    ):
        new_status = OrderStatus.PARTIALLY_FILLED
    return OrderState(new_status, filled, current.quantity)
