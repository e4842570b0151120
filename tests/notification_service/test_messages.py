"""Titles and bodies written for people."""

from __future__ import annotations

from decimal import Decimal

import pytest

from notification_service import messages
from notification_service.messages import (
    BacktestOutcome,
    BacktestSummary,
    RiskAction,
    RiskEvent,
    TradeFill,
    TradeSide,
)
from notification_service.model import NotificationType, Severity, is_critical


def fill(side=TradeSide.BUY, symbol="BTC/USD", quantity="0.5", price="42000", fee=None):
    return TradeFill(
        symbol=symbol,
        side=side,
        quantity=Decimal(quantity),
        price=Decimal(price),
        fee=Decimal(fee) if fee else None,
    )


def test_trade_executed_when_buy_reads_like_the_seed():
    note = messages.trade_executed(fill(fee="10.5"), "My DCA Strategy", "k", None)
    assert note.title == "Bought 0.5 BTC at $42,000.00 — My DCA Strategy"
    assert note.body == (
        "My DCA Strategy bought 0.5 BTC/USD at $42,000.00 for $21,000.00 (fee $10.50)."
    )
    assert note.type is NotificationType.TRADE_EXECUTED and note.severity is Severity.INFO


def test_trade_executed_when_sell_of_equity_without_strategy_name_omits_the_dash():
    note = messages.trade_executed(fill(TradeSide.SELL, "AAPL", "1500", "189.5"), "", "k", None)
    assert note.title == "Sold 1,500 AAPL at $189.50"
    assert note.body.startswith("Your bot sold 1,500 AAPL at $189.50 for $284,250.00")


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        ("42000", "$42,000.00"),
        ("0.5", "$0.50"),
        ("0.000123", "$0.000123"),
        ("-5", "-$5.00"),
        ("1234567.891", "$1,234,567.89"),
        ("0", "$0.00"),
    ],
)
def test_format_usd_when_given_amount_reads_as_dollars(amount, shown):
    assert messages.format_usd(Decimal(amount)) == shown


@pytest.mark.parametrize(
    ("quantity", "shown"),
    [("0.50000000", "0.5"), ("1500", "1,500"), ("1E+3", "1,000"), ("0.00012345", "0.00012345")],
)
def test_format_quantity_when_given_decimal_drops_trailing_zeros(quantity, shown):
    assert messages.format_quantity(Decimal(quantity)) == shown


@pytest.mark.parametrize(
    ("action", "kind", "title"),
    [
        (
            RiskAction.STRATEGY_PAUSED,
            NotificationType.STRATEGY_PAUSED,
            "Strategy paused automatically — Grid",
        ),
        (
            RiskAction.STRATEGY_STOPPED,
            NotificationType.STRATEGY_PAUSED,
            "Strategy stopped automatically — Grid",
        ),
        (
            RiskAction.KILL_SWITCH_ENGAGED,
            NotificationType.KILL_SWITCH,
            "Kill switch engaged — Grid",
        ),
        (RiskAction.TRADE_BLOCKED, NotificationType.TRADE_BLOCKED, "Trade blocked — Grid"),
        (RiskAction.NONE, NotificationType.RISK_ALERT, "Risk alert — Grid"),
    ],
)
def test_risk_event_when_action_taken_decides_type_and_title(action, kind, title):
    note = messages.risk_event(
        RiskEvent("daily_loss_limit_breached", action, {}, "Grid"), "k", None
    )
    assert (note.type, note.title) == (kind, title)
    assert is_critical(note.type) == (
        action
        in {RiskAction.STRATEGY_PAUSED, RiskAction.STRATEGY_STOPPED, RiskAction.KILL_SWITCH_ENGAGED}
    )


def test_risk_event_when_message_given_uses_it_as_the_reason():
    event = RiskEvent(
        "trade_blocked", RiskAction.TRADE_BLOCKED, {}, "", "Order exceeds 10% of equity"
    )
    note = messages.risk_event(event, "k", None)
    assert note.body == "Order exceeds 10% of equity. The order was not sent."
    assert note.data["action_taken"] == "trade_blocked"


def test_describe_event_when_type_unknown_humanizes_it_and_skips_bad_numbers():
    text = messages.describe_event("odd_volume_spike", {"loss_usd": "120.5", "price": "abc"})
    assert text == "Odd volume spike (loss $120.50)"


def test_backtest_completed_when_failed_carries_the_error():
    summary = BacktestSummary("b-1", "RSI", BacktestOutcome.FAILED, error_message="no market data")
    note = messages.backtest_completed(summary, "k", None)
    assert note.title == "Backtest failed — RSI"
    assert note.body == "no market data."
    assert note.type is NotificationType.BACKTEST_FAILED and note.severity is Severity.ERROR


def test_titles_when_strategy_name_is_long_are_clipped_to_the_column_limit():
    note = messages.trade_executed(fill(), "x" * 300, "k", None)
    assert len(note.title) == 200 and note.title.endswith("…")
