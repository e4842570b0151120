"""Input sanity: a ValidateTrade request (protobuf) into the domain's plain data.

Every malformed field raises ``InvalidArgument`` naming it by its path in the request
(``order.quantity``, ``strategy.positions[2].symbol``). A well-formed order that a rule
refuses is not malformed: that is an answer, not an error.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from risk_service.instruments import (
    ANY_SYMBOL,
    MAX_PRICE,
    MAX_QUANTITY,
    RULES_BY_ASSET,
    meets_minimum,
    price_places,
)
from risk_service.model import (
    Account,
    AssetClass,
    Holding,
    OpenOrder,
    OrderRequest,
    OrderType,
    Side,
    Strategy,
    StrategyLimits,
    StrategyStatus,
    TimeInForce,
    TradeWindow,
)
from servicekit.errors import InvalidArgument
from servicekit.ids import uuid_from_text
from servicekit.money import parse_decimal
from trading.risk.v1 import risk_service_pb2 as pb
from trading.types.v1 import types_pb2 as types

SIDES = {types.SIDE_BUY: Side.BUY, types.SIDE_SELL: Side.SELL}
ORDER_TYPES = {
    types.ORDER_TYPE_MARKET: OrderType.MARKET,
    types.ORDER_TYPE_LIMIT: OrderType.LIMIT,
    types.ORDER_TYPE_STOP: OrderType.STOP,
    types.ORDER_TYPE_STOP_LIMIT: OrderType.STOP_LIMIT,
}
TIMES_IN_FORCE = {
    types.TIME_IN_FORCE_DAY: TimeInForce.DAY,
    types.TIME_IN_FORCE_GTC: TimeInForce.GTC,
    types.TIME_IN_FORCE_IOC: TimeInForce.IOC,
    types.TIME_IN_FORCE_FOK: TimeInForce.FOK,
}
ASSET_CLASSES = {
    types.ASSET_CLASS_US_EQUITY: AssetClass.US_EQUITY,
    types.ASSET_CLASS_CRYPTO: AssetClass.CRYPTO,
}
STRATEGY_STATES = {
    pb.STRATEGY_STATE_ACTIVE: StrategyStatus.ACTIVE,
    pb.STRATEGY_STATE_PAUSED: StrategyStatus.PAUSED,
    pb.STRATEGY_STATE_STOPPED: StrategyStatus.STOPPED,
    pb.STRATEGY_STATE_REDUCING: StrategyStatus.REDUCING,
    pb.STRATEGY_STATE_DRAFT: StrategyStatus.DRAFT,
    pb.STRATEGY_STATE_ERROR: StrategyStatus.ERROR,
}
BROKER_LIVE = {pb.BROKER_MODE_PAPER: False, pb.BROKER_MODE_LIVE: True}
MAX_CLIENT_ORDER_ID = 128
MAX_OPEN_ITEMS = 10_000
MONEY_PLACES = 9
MAX_CACHED_CONFIGS = 4096


def enum_value(mapping: dict, value: int, field: str, enum_name: str):
    """The domain value of a protobuf enum, or InvalidArgument for unset/unknown values."""
    try:
        return mapping[value]
    except KeyError:
        what = "is required" if value == 0 else f"has an unknown {enum_name} value {value}"
        raise InvalidArgument(field, what) from None


def parse_uuid(value: str, field: str) -> uuid.UUID:
    if not value:
        raise InvalidArgument(field, "is required")
    try:
        return uuid_from_text(value)
    except ValueError:
        raise InvalidArgument(field, "must be a UUID") from None


def money(value: str, field: str, *, required: bool = True, positive: bool = False) -> Decimal:
    """A signed (or non-negative) amount of USD."""
    number = parse_decimal(
        value, field, positive=positive, max_places=MONEY_PLACES, required=required
    )
    return Decimal(0) if number is None else number


def optional_decimal(value: str, field: str, *, allow_zero: bool = True) -> Decimal | None:
    return parse_decimal(
        value, field, positive=True, allow_zero=allow_zero, max_places=MONEY_PLACES, required=False
    )


def parse_trade_request(
    request: pb.ValidateTradeRequest,
) -> tuple[OrderRequest, Account, Strategy, bool]:
    """The order, account and strategy of a request, and whether it goes to a live broker."""
    if not request.HasField("strategy"):
        raise InvalidArgument("strategy", "is required (the executor's strategy snapshot)")
    if not request.HasField("account"):
        raise InvalidArgument("account", "is required (the executor's account snapshot)")
    if not request.HasField("order"):
        raise InvalidArgument("order", "is required")
    live = enum_value(BROKER_LIVE, request.broker_mode, "broker_mode", "BrokerMode")
    strategy = parse_strategy(request.strategy)
    order = parse_order(request, strategy.fractional_enabled)
    account = parse_account(request.account)
    return order, account, strategy, live


def parse_order(request: pb.ValidateTradeRequest, fractional: bool) -> OrderRequest:
    wire = request.order
    asset = enum_value(ASSET_CLASSES, request.asset_class, "asset_class", "AssetClass")
    instrument = RULES_BY_ASSET[asset]
    client_order_id = wire.client_order_id
    if not client_order_id:
        raise InvalidArgument("order.client_order_id", "is required")
    if len(client_order_id) > MAX_CLIENT_ORDER_ID or not client_order_id.isprintable():
        raise InvalidArgument(
            "order.client_order_id", f"must be at most {MAX_CLIENT_ORDER_ID} printable characters"
        )
    if not instrument.symbol_pattern.match(wire.symbol):
        raise InvalidArgument(
            "order.symbol",
            f"{wire.symbol!r} is not a {asset.value} symbol (e.g. {instrument.symbol_example})",
        )
    side = enum_value(SIDES, wire.side, "order.side", "Side")
    order_type = enum_value(ORDER_TYPES, wire.order_type, "order.order_type", "OrderType")
    tif = enum_value(TIMES_IN_FORCE, wire.time_in_force, "order.time_in_force", "TimeInForce")
    if order_type not in instrument.order_types:
        raise InvalidArgument(
            "order.order_type", f"{order_type.value} orders are not allowed for {asset.value}"
        )
    if tif not in instrument.times_in_force:
        allowed = ", ".join(sorted(t.value for t in instrument.times_in_force))
        raise InvalidArgument("order.time_in_force", f"must be one of {allowed} for {asset.value}")

    # The market price is information, not an order price: any precision up to 9 places.
    market_price = _price(request.price, "price", asset, tick=False)
    limit_price = stop_price = None
    if order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        limit_price = _price(wire.limit_price, "order.limit_price", asset)
    elif wire.limit_price:
        raise InvalidArgument("order.limit_price", f"must be empty for a {order_type.value} order")
    if order_type in (OrderType.STOP, OrderType.STOP_LIMIT):
        stop_price = _price(wire.stop_price, "order.stop_price", asset)
    elif wire.stop_price:
        raise InvalidArgument("order.stop_price", f"must be empty for a {order_type.value} order")
    # What the order is expected to cost: its limit, its stop, or the market.
    price = limit_price or stop_price or market_price

    crypto = asset is AssetClass.CRYPTO
    places = instrument.quantity_places(fractional or crypto)
    if wire.notional:
        if wire.quantity:
            raise InvalidArgument("order.notional", "give either quantity or notional, not both")
        if order_type is not OrderType.MARKET:
            raise InvalidArgument("order.notional", "notional orders must be market orders")
        if not (fractional or crypto):
            raise InvalidArgument(
                "order.notional", "notional orders need fractional trading enabled"
            )
        notional = parse_decimal(
            wire.notional, "order.notional", positive=True, allow_zero=False, max_places=2
        )
        assert notional is not None
        step = Decimal(1).scaleb(-places)
        quantity = (notional / price).quantize(step, rounding=ROUND_DOWN)
        quantity_field = "order.notional"
    else:
        parsed = parse_decimal(
            wire.quantity, "order.quantity", positive=True, allow_zero=False, max_places=places
        )
        assert parsed is not None
        quantity = parsed
        quantity_field = "order.quantity"
    if quantity > MAX_QUANTITY:
        raise InvalidArgument(quantity_field, f"is above the maximum quantity {MAX_QUANTITY:,}")
    fractional_order = quantity != quantity.to_integral_value()
    if asset is AssetClass.US_EQUITY and fractional_order and order_type is not OrderType.MARKET:
        raise InvalidArgument(
            "order.quantity", "fractional quantities are allowed only in market orders"
        )
    if not meets_minimum(asset, quantity, price, whole=places == 0):
        raise InvalidArgument(
            quantity_field, "is below the minimum order size ($1 of notional, or 1 share)"
        )
    return OrderRequest(
        client_order_id=client_order_id,
        symbol=wire.symbol,
        side=side,
        order_type=order_type,
        time_in_force=tif,
        quantity=quantity,
        price=price,
        asset_class=asset,
        limit_price=limit_price,
        quantity_places=places,
    )


def _price(value: str, field: str, asset: AssetClass, *, tick: bool = True) -> Decimal:
    """A positive price; ``tick``: within the instrument's price precision (order prices)."""
    number = parse_decimal(value, field, positive=True, allow_zero=False)
    assert number is not None
    if number > MAX_PRICE:
        raise InvalidArgument(field, f"is above the maximum price {MAX_PRICE:,}")
    places = price_places(asset, number) if tick else MONEY_PLACES
    if -number.as_tuple().exponent > places:  # type: ignore[operator]
        raise InvalidArgument(field, f"has more than {places} decimal places")
    return number


def parse_account(wire: pb.AccountSnapshot) -> Account:
    equity = parse_decimal(
        wire.equity, "account.equity", positive=True, allow_zero=False, max_places=MONEY_PLACES
    )
    assert equity is not None
    peak = optional_decimal(wire.peak_equity, "account.peak_equity")
    gross = optional_decimal(wire.gross_exposure, "account.gross_exposure")
    return Account(
        cash=money(wire.cash, "account.cash"),
        buying_power=money(wire.buying_power, "account.buying_power", positive=True),
        equity=equity,
        realized_pnl_today=money(
            wire.realized_pnl_today, "account.realized_pnl_today", required=False
        ),
        unrealized_pnl=money(wire.unrealized_pnl, "account.unrealized_pnl", required=False),
        peak_equity=max(peak or equity, equity),
        gross_exposure=gross,
    )


@dataclass(frozen=True, slots=True)
class _ConfigRules:
    """What risk reads from a strategy's configuration."""

    allocated_capital: Decimal | None
    trade_window: TradeWindow | None
    limits: StrategyLimits
    fractional_enabled: bool


# A bot sends the same configuration with every order: its parse is kept, keyed by the
# configuration's exact bytes (a changed field is a different key). Only parses that
# succeeded are kept, so a bad configuration is refused every time.
_config_rules: dict[bytes, _ConfigRules] = {}


def _parse_config(config: types.StrategyConfig) -> _ConfigRules:
    key = config.SerializeToString(deterministic=True)
    rules = _config_rules.get(key)
    if rules is None:
        rules = _ConfigRules(
            allocated_capital=optional_decimal(
                config.capital_allocation.allocated_capital,
                "strategy.config.capital_allocation.allocated_capital",
            ),
            trade_window=parse_trade_window(config.trade_window, "strategy.config.trade_window"),
            limits=parse_strategy_limits(config, "strategy.config"),
            fractional_enabled=config.fractional_enabled,
        )
        if len(_config_rules) >= MAX_CACHED_CONFIGS:
            _config_rules.clear()
        _config_rules[key] = rules
    return rules


def parse_strategy(wire: pb.StrategySnapshot) -> Strategy:
    status = enum_value(STRATEGY_STATES, wire.state, "strategy.state", "StrategyState")
    if len(wire.positions) > MAX_OPEN_ITEMS or len(wire.open_orders) > MAX_OPEN_ITEMS:
        raise InvalidArgument("strategy", f"at most {MAX_OPEN_ITEMS} positions and open orders")
    equity = optional_decimal(wire.equity, "strategy.equity")
    peak = optional_decimal(wire.peak_equity, "strategy.peak_equity")
    config = _parse_config(wire.config)
    return Strategy(
        strategy_id=parse_uuid(wire.strategy_id, "strategy.strategy_id"),
        user_id=parse_uuid(wire.user_id, "strategy.user_id"),
        status=status,
        positions=_parse_items(wire.positions, parse_position, "strategy.positions"),
        open_orders=_parse_items(wire.open_orders, parse_open_order, "strategy.open_orders"),
        realized_pnl_today=money(
            wire.realized_pnl_today, "strategy.realized_pnl_today", required=False
        ),
        unrealized_pnl=money(wire.unrealized_pnl, "strategy.unrealized_pnl", required=False),
        equity=equity,
        peak_equity=max(peak, equity) if peak is not None and equity is not None else peak,
        allocated_capital=config.allocated_capital,
        trade_window=config.trade_window,
        limits=config.limits,
        fractional_enabled=config.fractional_enabled,
    )


def parse_strategy_limits(config: types.StrategyConfig, prefix: str) -> StrategyLimits:
    """The limits a strategy configuration sets (empty fields set none)."""
    controls = config.risk_controls
    where = f"{prefix}.risk_controls"
    return StrategyLimits(
        max_notional_per_order=optional_decimal(
            config.capital_allocation.max_capital_per_trade,
            f"{prefix}.capital_allocation.max_capital_per_trade",
        ),
        max_positions=_count(
            config.position_sizing.max_positions, f"{prefix}.position_sizing.max_positions"
        ),
        max_daily_loss_usd=optional_decimal(
            controls.max_daily_loss_usd, f"{where}.max_daily_loss_usd"
        ),
        max_daily_loss_pct=_percent(controls.max_daily_loss_pct, f"{where}.max_daily_loss_pct"),
        max_drawdown_pct=_percent(controls.max_drawdown_pct, f"{where}.max_drawdown_pct"),
        max_orders_per_minute=_count(
            controls.max_orders_per_minute, f"{where}.max_orders_per_minute"
        ),
        max_orders_per_day=_count(controls.max_orders_per_day, f"{where}.max_orders_per_day"),
        max_leverage=optional_decimal(
            controls.max_leverage, f"{where}.max_leverage", allow_zero=False
        ),
    )


def _percent(value: str, field: str) -> Decimal | None:
    number = optional_decimal(value, field)
    if number is not None and number > 100:
        raise InvalidArgument(field, "must be a percentage between 0 and 100")
    return number


def _count(value: int, field: str) -> int | None:
    if value < 0:
        raise InvalidArgument(field, "must not be negative")
    return value or None


def _parse_items(items, parse: Callable, field: str) -> tuple:
    """Each item parsed; an error names the item, e.g. ``strategy.open_orders[3].side``."""
    parsed = []
    for index, item in enumerate(items):
        try:
            parsed.append(parse(item))
        except InvalidArgument as error:
            raise error.within(f"{field}[{index}]") from None
    return tuple(parsed)


def parse_position(wire: types.Position) -> Holding:
    """One position; fields are named relative to it (see _parse_items)."""
    return Holding(
        symbol=_symbol(wire.symbol),
        quantity=money(wire.quantity, "quantity"),
        average_entry_price=money(wire.average_entry_price, "average_entry_price", positive=True),
        market_price=optional_decimal(wire.market_price, "market_price"),
    )


def parse_open_order(wire: types.Order) -> OpenOrder:
    """One open order; fields are named relative to it (see _parse_items)."""
    quantity = parse_decimal(
        wire.quantity, "quantity", positive=True, allow_zero=False, max_places=MONEY_PLACES
    )
    assert quantity is not None
    return OpenOrder(
        symbol=_symbol(wire.symbol),
        side=enum_value(SIDES, wire.side, "side", "Side"),
        quantity=quantity,
        limit_price=optional_decimal(wire.limit_price, "limit_price", allow_zero=False),
        reference_price=optional_decimal(wire.stop_price, "stop_price", allow_zero=False),
    )


def _symbol(value: str) -> str:
    if not ANY_SYMBOL.match(value):
        raise InvalidArgument("symbol", f"{value!r} is not a symbol")
    return value


def parse_trade_window(wire: types.TradeWindow, field: str) -> TradeWindow | None:
    if not wire.enabled:
        return None
    days = frozenset(wire.days_of_week)
    if not days <= frozenset(range(1, 8)):
        raise InvalidArgument(f"{field}.days_of_week", "days are ISO numbers 1 (Monday) to 7")
    zone = None
    if wire.timezone:
        try:
            zone = ZoneInfo(wire.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidArgument(
                f"{field}.timezone", f"unknown time zone {wire.timezone!r}"
            ) from None
    return TradeWindow(
        start=_clock(wire.start_time, f"{field}.start_time"),
        end=_clock(wire.end_time, f"{field}.end_time"),
        days_of_week=days,
        timezone=zone,
    )


def _clock(value: str, field: str) -> dt.time:
    try:
        hours, minutes = value.split(":")
        if len(hours) != 2 or len(minutes) != 2:
            raise ValueError
        return dt.time(int(hours), int(minutes))
    except ValueError:
        raise InvalidArgument(field, "must be a time HH:MM") from None
