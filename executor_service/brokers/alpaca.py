"""Alpaca through alpaca-py's ``TradingClient``, behind the executor's Broker interface.

- The paper endpoint unless the strategy is explicitly live (the caller decides that with
  the deployment switch and the user's profile; see ``runner.broker_for``).
- Every order carries our client order id. alpaca-py itself retries 429 and 504 answers,
  order submission included: when a first attempt got through, the retry is refused with
  "client_order_id must be unique", which means the order exists; it is looked up
  (``get_order_by_client_id``) and never sent again (``DuplicateClientOrderId``).
- Order status is polled by client order id; Alpaca reports cumulative fills only, so
  the ledger synthesizes fills from the growth of ``filled_qty``.
- The client is synchronous (requests); calls run in a worker thread with a deadline.
  No timeout answer means "unknown": ``BrokerUnavailable``, the caller looks the order up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar, cast

import requests
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, QueryOrderStatus, TimeInForce
from alpaca.trading.models import Order, Position, TradeAccount
from alpaca.trading.requests import (
    GetOrdersRequest,
    LimitOrderRequest,
    MarketOrderRequest,
    StopLimitOrderRequest,
    StopOrderRequest,
)

from executor_service.brokers.base import (
    BrokerAccount,
    BrokerError,
    BrokerOrder,
    BrokerUnavailable,
    DuplicateClientOrderId,
    OrderRequest,
)
from executor_service.credentials import BrokerKeys
from executor_service.order_state import parse_broker_status

log = logging.getLogger("executor_service.brokers.alpaca")

T = TypeVar("T")

DUPLICATE_MESSAGE = "client_order_id must be unique"
# Alpaca answers 404 for an unknown client order id and 422 for an order that can no
# longer be canceled; 5xx and 429 (after alpaca-py's own retries) mean "try later".
_NOT_FOUND = 404
_NOT_CANCELABLE = 422


def order_request(request: OrderRequest):
    """alpaca-py's request model for one of our orders."""
    common: dict[str, Any] = {
        "symbol": request.symbol,
        "qty": float(request.quantity),
        "side": OrderSide(request.side),
        "time_in_force": TimeInForce(request.time_in_force),
        "client_order_id": request.client_order_id,
    }
    if request.order_type == "market":
        return MarketOrderRequest(**common)
    if request.order_type == "limit":
        return LimitOrderRequest(**common, limit_price=float(request.limit_price))  # type: ignore[arg-type]
    if request.order_type == "stop":
        return StopOrderRequest(**common, stop_price=float(request.stop_price))  # type: ignore[arg-type]
    if request.order_type == "stop_limit":
        return StopLimitOrderRequest(
            **common,
            stop_price=float(request.stop_price),  # type: ignore[arg-type]
            limit_price=float(request.limit_price),  # type: ignore[arg-type]
        )
    raise ValueError(f"unsupported order type {request.order_type!r}")


def _decimal(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    return Decimal(str(value))


def order_report(order: Order) -> BrokerOrder:
    """Our view of an Alpaca order (cumulative fill only: ``fills`` is None)."""
    status = parse_broker_status(order.status)  # ValueError on a status we do not know
    return BrokerOrder(
        client_order_id=order.client_order_id,
        broker_order_id=str(order.id),
        symbol=order.symbol or "",
        side=str(getattr(order.side, "value", order.side) or ""),
        quantity=_decimal(order.qty) or Decimal(0),
        status=status.value,
        filled_qty=_decimal(order.filled_qty) or Decimal(0),
        filled_avg_price=_decimal(order.filled_avg_price),
        reject_reason="rejected by Alpaca" if status.value == "rejected" else "",
        fills=None,
    )


def account_report(account: TradeAccount) -> BrokerAccount:
    cash = _decimal(account.cash) or Decimal(0)
    return BrokerAccount(
        cash=cash,
        buying_power=_decimal(account.buying_power) or Decimal(0),
        equity=_decimal(account.equity) or cash,
    )


def _is_duplicate(error: APIError) -> bool:
    try:
        message = error.message
    except (ValueError, KeyError, TypeError):
        message = str(error)
    return DUPLICATE_MESSAGE in str(message)


def _status(error: APIError) -> int | None:
    try:
        return error.status_code
    except AttributeError:
        return None


class AlpacaBroker:
    """One Alpaca account (paper or live) behind the Broker interface."""

    name = "alpaca"

    def __init__(
        self,
        keys: BrokerKeys,
        *,
        live: bool = False,
        url_override: str | None = None,
        deadline_seconds: float = 10.0,
        retry_wait_seconds: float | None = None,
    ):
        self.live = live
        self._client = TradingClient(
            keys.api_key_id, keys.api_secret, paper=not live, url_override=url_override
        )
        if retry_wait_seconds is not None:
            # alpaca-py has no constructor argument for the pause between its 429/504
            # retries (3 s); tests shorten it.
            self._client._retry_wait = retry_wait_seconds  # type: ignore[assignment]
        self._deadline = deadline_seconds

    @property
    def base_url(self) -> str:
        base = self._client._base_url
        return str(getattr(base, "value", base))

    async def _call(self, function: Callable[..., T], *args) -> T:
        try:
            return await asyncio.wait_for(asyncio.to_thread(function, *args), self._deadline)
        except (TimeoutError, requests.ConnectionError, requests.Timeout) as error:
            raise BrokerUnavailable(f"Alpaca did not answer: {error!r}") from None
        except APIError as error:
            status = _status(error)
            if status is None or status >= 500 or status == 429:
                raise BrokerUnavailable(f"Alpaca: {status}: {error}") from None
            raise

    async def submit_order(self, request: OrderRequest) -> BrokerOrder:
        try:
            order = await self._call(self._client.submit_order, order_request(request))
        except APIError as error:
            if _is_duplicate(error):
                raise DuplicateClientOrderId(DUPLICATE_MESSAGE) from None
            # A refusal (buying power, asset not tradable, ...): the order is rejected.
            log.warning("Alpaca refused %s: %s", request.client_order_id, error)
            return BrokerOrder(
                client_order_id=request.client_order_id,
                broker_order_id="",
                symbol=request.symbol,
                side=request.side,
                quantity=request.quantity,
                status="rejected",
                filled_qty=Decimal(0),
                reject_reason=f"refused by Alpaca: {error}"[:500],
            )
        return order_report(order)  # type: ignore[arg-type]

    async def get_order(self, client_order_id: str) -> BrokerOrder | None:
        try:
            order = await self._call(self._client.get_order_by_client_id, client_order_id)
        except APIError as error:
            if _status(error) == _NOT_FOUND:
                return None
            raise BrokerError(f"Alpaca: {error}") from None
        return order_report(order)  # type: ignore[arg-type]

    async def cancel_order(self, client_order_id: str) -> BrokerOrder | None:
        order = await self.get_order(client_order_id)
        if order is None or not order.broker_order_id:
            return order
        try:
            await self._call(self._client.cancel_order_by_id, order.broker_order_id)
        except APIError as error:
            if _status(error) not in (_NOT_CANCELABLE, _NOT_FOUND):
                raise BrokerError(f"Alpaca: {error}") from None
            # Already filled or closed: the order as it stands says so.
        return await self.get_order(client_order_id)

    async def list_open_orders(self) -> list[BrokerOrder]:
        orders = await self._call(
            self._client.get_orders, GetOrdersRequest(status=QueryOrderStatus.OPEN, limit=500)
        )
        # The client is built without raw_data, so the SDK returns its Order models.
        return [order_report(order) for order in cast(list[Order], orders)]

    async def get_account(self) -> BrokerAccount:
        return account_report(await self._call(self._client.get_account))  # type: ignore[arg-type]

    async def get_positions(self) -> dict[str, Decimal]:
        positions = cast(list[Position], await self._call(self._client.get_all_positions))
        return {p.symbol: Decimal(str(p.qty)) for p in positions}
