"""The broker interface: what the executor needs from any broker, and its errors.

Errors encode policy: ``BrokerUnavailable`` is temporary (look the order up, retry
later), ``DuplicateClientOrderId`` means the order already exists (look it up, never
send it again), anything else from a broker is reported on the order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol


class BrokerError(Exception):
    """A broker refused or failed a request."""


class BrokerUnavailable(BrokerError):
    """The broker did not answer (timeout, 5xx, network): the outcome is unknown."""


class DuplicateClientOrderId(BrokerError):
    """The broker already has an order with this client order id."""


@dataclass(frozen=True)
class OrderRequest:
    client_order_id: str
    symbol: str
    side: str  # "buy" | "sell"
    order_type: str  # "market" | "limit" | "stop"
    quantity: Decimal
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: str = "gtc"
    # The bar the decision was made on; the paper exchange fills only on later bars.
    decision_at: datetime | None = None


@dataclass(frozen=True)
class BrokerFill:
    fill_id: str
    quantity: Decimal
    price: Decimal
    fee: Decimal
    filled_at: datetime


@dataclass(frozen=True)
class BrokerOrder:
    """An order as the broker reports it: cumulative fill and, when known, each fill."""

    client_order_id: str
    broker_order_id: str
    symbol: str
    side: str
    quantity: Decimal
    status: str
    filled_qty: Decimal
    filled_avg_price: Decimal | None = None
    reject_reason: str = ""
    # None when the broker reports only the cumulative fill (Alpaca's order endpoint).
    fills: tuple[BrokerFill, ...] | None = field(default=None)


@dataclass(frozen=True)
class BrokerAccount:
    cash: Decimal
    buying_power: Decimal
    equity: Decimal


class Broker(Protocol):
    """One brokerage account."""

    name: str

    async def submit_order(self, request: OrderRequest) -> BrokerOrder:
        """Place an order; DuplicateClientOrderId if its client order id exists."""
        ...

    async def get_order(self, client_order_id: str) -> BrokerOrder | None:
        """The order with this client order id, or None if the broker never got it."""
        ...

    async def cancel_order(self, client_order_id: str) -> BrokerOrder | None:
        """Ask the broker to cancel; the order as it stands after the request."""
        ...

    async def list_open_orders(self) -> list[BrokerOrder]:
        """Every order still open at the broker (reconciliation)."""
        ...

    async def get_account(self) -> BrokerAccount: ...

    async def get_positions(self) -> dict[str, Decimal]:
        """Quantity held per symbol."""
        ...


async def submit_idempotently(broker: Broker, request: OrderRequest) -> BrokerOrder | None:
    """Submit once, whatever happened before: the order as the broker has it.

    A duplicate rejection means an earlier attempt reached the broker: look it up. A
    timeout leaves the outcome unknown: look it up; None means "not there, retry later".
    """
    try:
        return await broker.submit_order(request)
    except DuplicateClientOrderId:
        return await broker.get_order(request.client_order_id)
    except BrokerUnavailable:
        try:
            return await broker.get_order(request.client_order_id)
        except BrokerUnavailable:
            return None
