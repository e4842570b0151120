"""Titles and bodies written for people, from the events other services report.

"Bought 0.5 BTC at $42,000.00 — My DCA Strategy". Pure functions: an event in, a
``NewNotification`` out; amounts are ``Decimal`` and are never rounded through floats.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from notification_service.model import (
    DEFAULT_SEVERITY,
    MAX_BODY_LENGTH,
    MAX_TITLE_LENGTH,
    NewNotification,
    NotificationType,
    Severity,
)

DASH = " — "


class TradeSide(enum.StrEnum):
    BUY = "buy"
    SELL = "sell"


@dataclass(frozen=True, slots=True)
class TradeFill:
    """A fill of a bot's order, with amounts already parsed."""

    symbol: str
    side: TradeSide
    quantity: Decimal
    price: Decimal
    fee: Decimal | None = None
    client_order_id: str = ""


class RiskAction(enum.StrEnum):
    """What the risk service did about an event."""

    NONE = "none"
    TRADE_BLOCKED = "trade_blocked"
    STRATEGY_PAUSED = "strategy_paused"
    STRATEGY_STOPPED = "strategy_stopped"
    KILL_SWITCH_ENGAGED = "kill_switch_engaged"


@dataclass(frozen=True, slots=True)
class RiskEvent:
    event_type: str
    action: RiskAction
    event_data: dict[str, str]
    strategy_name: str = ""
    message: str = ""


class BacktestOutcome(enum.StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class BacktestSummary:
    backtest_id: str
    strategy_name: str
    outcome: BacktestOutcome
    total_return_pct: Decimal | None = None
    sharpe_ratio: Decimal | None = None
    max_drawdown_pct: Decimal | None = None
    total_trades: int = 0
    error_message: str = ""


# ---------------------------------------------------------------------------
# Number formatting
# ---------------------------------------------------------------------------


def format_usd(amount: Decimal) -> str:
    """$42,000.00; sub-dollar prices keep their significant digits ($0.000123)."""
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    if amount >= 1 or amount == 0:
        text = f"{amount.quantize(Decimal('0.01'), rounding=ROUND_HALF_EVEN):,}"
    else:
        text = _plain(amount.quantize(Decimal("0.00000001"), rounding=ROUND_HALF_EVEN))
        if len(text.partition(".")[2]) < 2:
            text = f"{Decimal(text):.2f}"
    return f"{sign}${text}"


def format_quantity(quantity: Decimal) -> str:
    """0.5, 1,500, 0.00012345: no trailing zeros, no exponent, thousands grouped."""
    text = _plain(quantity)
    whole, _, fraction = text.partition(".")
    grouped = f"{int(whole):,}" if whole.lstrip("-").isdigit() else whole
    if whole.startswith("-0"):
        grouped = "-" + grouped.lstrip("-")
    return f"{grouped}.{fraction}" if fraction else grouped


def format_percent(value: Decimal, *, signed: bool = False) -> str:
    rounded = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    return f"{'+' if signed and rounded > 0 else ''}{rounded}%"


def _plain(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros."""
    text = format(value.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def base_asset(symbol: str) -> str:
    """BTC/USD -> BTC; AAPL -> AAPL."""
    return symbol.split("/", 1)[0].strip().upper()


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _with_strategy(title: str, strategy_name: str) -> str:
    name = strategy_name.strip()
    return _clip(f"{title}{DASH}{name}" if name else title, MAX_TITLE_LENGTH)


# ---------------------------------------------------------------------------
# Trades
# ---------------------------------------------------------------------------


def trade_executed(
    fill: TradeFill, strategy_name: str, idempotency_key: str, strategy_id: uuid.UUID | None
) -> NewNotification:
    """ "Bought 0.5 BTC at $42,000.00 — My DCA Strategy"."""
    verb = "Bought" if fill.side is TradeSide.BUY else "Sold"
    asset = base_asset(fill.symbol)
    quantity, price = format_quantity(fill.quantity), format_usd(fill.price)
    notional = fill.quantity * fill.price
    who = strategy_name.strip() or "Your bot"
    body = f"{who} {verb.lower()} {quantity} {fill.symbol} at {price} for {format_usd(notional)}"
    if fill.fee:
        body += f" (fee {format_usd(fill.fee)})"
    data = {
        "symbol": fill.symbol,
        "side": fill.side.value,
        "quantity": _plain(fill.quantity),
        "price": _plain(fill.price),
        "notional": _plain(notional),
    }
    if fill.fee is not None:
        data["fee"] = _plain(fill.fee)
    if fill.client_order_id:
        data["client_order_id"] = fill.client_order_id
    if strategy_name.strip():
        data["strategy_name"] = strategy_name.strip()
    return NewNotification(
        type=NotificationType.TRADE_EXECUTED,
        severity=DEFAULT_SEVERITY[NotificationType.TRADE_EXECUTED],
        title=_with_strategy(f"{verb} {quantity} {asset} at {price}", strategy_name),
        body=_clip(body + ".", MAX_BODY_LENGTH),
        idempotency_key=idempotency_key,
        data=data,
        strategy_id=strategy_id,
    )


# ---------------------------------------------------------------------------
# Risk events
# ---------------------------------------------------------------------------

_EVENT_PHRASES = {
    "stop_loss_triggered": "Stop loss triggered",
    "take_profit_triggered": "Take profit reached",
    "daily_loss_limit_breached": "Daily loss limit reached",
    "max_drawdown_breached": "Maximum drawdown reached",
    "position_limit_exceeded": "Position limit exceeded",
    "order_rate_limited": "Order rate limit reached",
    "insufficient_buying_power": "Not enough buying power",
    "kill_switch_activated": "Kill switch activated",
    "risk_service_unavailable": "Risk checks were unavailable",
    "trade_blocked": "Trade blocked by risk checks",
}

# Known details, in the order they read best: (key, label, unit).
_EVENT_DETAILS = (
    ("loss_pct", "loss", "%"),
    ("drawdown_pct", "drawdown", "%"),
    ("loss_usd", "loss", "$"),
    ("limit_pct", "limit", "%"),
    ("limit_usd", "limit", "$"),
    ("price", "price", "$"),
)

# action -> (type, title, what happens next)
_ACTION_WORDING: dict[RiskAction, tuple[NotificationType, str, str]] = {
    RiskAction.NONE: (NotificationType.RISK_ALERT, "Risk alert", ""),
    RiskAction.TRADE_BLOCKED: (
        NotificationType.TRADE_BLOCKED,
        "Trade blocked",
        "The order was not sent.",
    ),
    RiskAction.STRATEGY_PAUSED: (
        NotificationType.STRATEGY_PAUSED,
        "Strategy paused automatically",
        "The strategy was paused and places no new orders; review it and resume it when ready.",
    ),
    RiskAction.STRATEGY_STOPPED: (
        NotificationType.STRATEGY_PAUSED,
        "Strategy stopped automatically",
        "The strategy was stopped and places no new orders.",
    ),
    RiskAction.KILL_SWITCH_ENGAGED: (
        NotificationType.KILL_SWITCH,
        "Kill switch engaged",
        "Trading is halted: no new orders are sent until the kill switch is released.",
    ),
}


def describe_event(event_type: str, event_data: dict[str, str]) -> str:
    """ "Stop loss triggered (loss 5.2%, limit 5%)"."""
    phrase = _EVENT_PHRASES.get(event_type) or event_type.replace("_", " ").strip().capitalize()
    details = []
    for key, label, unit in _EVENT_DETAILS:
        amount = _decimal_or_none(event_data.get(key, ""))
        if amount is None:
            continue
        shown = format_usd(amount) if unit == "$" else f"{_plain(amount)}%"
        details.append(f"{label} {shown}")
    return f"{phrase} ({', '.join(details)})" if details else phrase


def risk_event(
    event: RiskEvent, idempotency_key: str, strategy_id: uuid.UUID | None
) -> NewNotification:
    """A risk event: its type (and whether it is critical) follows the action taken."""
    kind, title, next_step = _ACTION_WORDING[event.action]
    reason = event.message.strip() or describe_event(event.event_type, event.event_data)
    body = " ".join(part for part in (_sentence(reason), next_step) if part)
    data = dict(event.event_data)
    data.update(event_type=event.event_type, action_taken=event.action.value)
    if event.strategy_name.strip():
        data["strategy_name"] = event.strategy_name.strip()
    return NewNotification(
        type=kind,
        severity=DEFAULT_SEVERITY[kind],
        title=_with_strategy(title, event.strategy_name),
        body=_clip(body, MAX_BODY_LENGTH),
        idempotency_key=idempotency_key,
        data=data,
        strategy_id=strategy_id,
    )


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text.endswith((".", "!", "?")) else text + "."


def _decimal_or_none(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


# ---------------------------------------------------------------------------
# Backtests
# ---------------------------------------------------------------------------


def backtest_completed(
    summary: BacktestSummary, idempotency_key: str, strategy_id: uuid.UUID | None
) -> NewNotification:
    """ "Backtest finished — My DCA Strategy" with its headline figures."""
    data = {"backtest_id": summary.backtest_id, "outcome": summary.outcome.value}
    if summary.strategy_name.strip():
        data["strategy_name"] = summary.strategy_name.strip()
    if summary.outcome is BacktestOutcome.SUCCEEDED:
        kind, severity, title = (
            NotificationType.BACKTEST_COMPLETED,
            Severity.SUCCESS,
            "Backtest finished",
        )
        body = _backtest_figures(summary, data)
    elif summary.outcome is BacktestOutcome.CANCELLED:
        kind, severity, title = (
            NotificationType.BACKTEST_FAILED,
            Severity.WARNING,
            "Backtest cancelled",
        )
        body = "The backtest was cancelled before it finished."
    else:
        kind, severity, title = NotificationType.BACKTEST_FAILED, Severity.ERROR, "Backtest failed"
        body = _sentence(summary.error_message) or "The backtest could not finish."
        if summary.error_message.strip():
            data["error_message"] = summary.error_message.strip()
    return NewNotification(
        type=kind,
        severity=severity,
        title=_with_strategy(title, summary.strategy_name),
        body=_clip(body, MAX_BODY_LENGTH),
        idempotency_key=idempotency_key,
        data=data,
        strategy_id=strategy_id,
    )


def _backtest_figures(summary: BacktestSummary, data: dict[str, str]) -> str:
    figures = []
    if summary.total_return_pct is not None:
        figures.append(f"return {format_percent(summary.total_return_pct, signed=True)}")
        data["total_return_pct"] = _plain(summary.total_return_pct)
    if summary.sharpe_ratio is not None:
        rounded = summary.sharpe_ratio.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
        figures.append(f"Sharpe {rounded}")
        data["sharpe_ratio"] = _plain(summary.sharpe_ratio)
    if summary.max_drawdown_pct is not None:
        figures.append(f"max drawdown {format_percent(summary.max_drawdown_pct)}")
        data["max_drawdown_pct"] = _plain(summary.max_drawdown_pct)
    trades = summary.total_trades
    figures.append(f"{trades} trade{'s' if trades != 1 else ''}")
    data["total_trades"] = str(trades)
    text = ", ".join(figures)
    return text[0].upper() + text[1:] + "."
