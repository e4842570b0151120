"""The decision: run every rule, add the ledger's verdicts (rate limit, duplicate id),
and explain the outcome. A denial is data: the same shape serves the API, the risk
events log and the notification."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum

from risk_service.context import TradeContext
from risk_service.instruments import meets_minimum
from risk_service.kill_switch import SwitchMode
from risk_service.limits import EffectiveLimits
from risk_service.model import StrategyStatus
from risk_service.rules import DUPLICATE_CLIENT_ORDER_ID, LOSS_RULES, RATE_LIMIT, RULES, Rule


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class Verdict:
    name: str
    reason_code: str
    outcome: Outcome
    message: str = ""
    max_quantity: Decimal | None = None


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """An order to count against the rate limits and, if ``reserve``, to record."""

    user_id: uuid.UUID
    strategy_id: uuid.UUID
    client_order_id: str
    symbol: str
    side: str
    quantity: Decimal
    notional: Decimal
    now: dt.datetime
    reserve: bool
    max_per_minute: int | None
    max_per_day: int | None


@dataclass(frozen=True, slots=True)
class LedgerResult:
    """What the order ledger said (see store.reserve_order)."""

    orders_this_minute: int
    orders_today: int
    duplicate: bool
    reserved: bool


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason_code: str
    message: str
    checks: tuple[Verdict, ...]
    max_allowed_quantity: Decimal | None
    reducing_only: bool

    @property
    def failed(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.checks if v.outcome is Outcome.FAILED)


def _plan(grows_position: bool) -> tuple[tuple[Rule, Verdict, Verdict, bool], ...]:
    """Each rule with its verdicts when it passes or is skipped (they never vary, so they
    are made once, not per order) and whether it applies to such an order."""
    return tuple(
        (
            rule,
            Verdict(rule.name, rule.reason_code, Outcome.PASSED),
            Verdict(rule.name, rule.reason_code, Outcome.SKIPPED, rule.skip_note),
            rule.applies(grows_position),
        )
        for rule in RULES
    )


_PLAN_GROWING = _plan(grows_position=True)
_PLAN_SHRINKING = _plan(grows_position=False)


def evaluate_rules(ctx: TradeContext) -> tuple[Verdict, ...]:
    """Every rule's verdict on the order, in evaluation order."""
    verdicts = []
    for rule, passed, skipped, applies in _PLAN_GROWING if ctx.grows_position else _PLAN_SHRINKING:
        if not applies:
            verdicts.append(skipped)
            continue
        denial = rule.check(ctx)
        if denial is None:
            verdicts.append(passed)
        else:
            verdicts.append(
                Verdict(
                    rule.name,
                    denial.reason_code,
                    Outcome.FAILED,
                    denial.message,
                    denial.max_quantity,
                )
            )
    return tuple(verdicts)


def rules_pass(verdicts: tuple[Verdict, ...]) -> bool:
    return all(v.outcome is not Outcome.FAILED for v in verdicts)


_RATE_PASSED = Verdict(*RATE_LIMIT, Outcome.PASSED)
_DUPLICATE_PASSED = Verdict(*DUPLICATE_CLIENT_ORDER_ID, Outcome.PASSED)


def ledger_verdicts(ledger: LedgerResult, limits: EffectiveLimits) -> tuple[Verdict, ...]:
    """The rate limit and duplicate-id verdicts from the ledger's counts."""
    per_minute = limits.value("max_orders_per_minute")
    per_day = limits.value("max_orders_per_day")
    name, code = RATE_LIMIT
    if per_minute is not None and ledger.orders_this_minute >= per_minute:
        rate = Verdict(
            name,
            code,
            Outcome.FAILED,
            f"Rate limit: {ledger.orders_this_minute} orders of this strategy this minute, "
            f"the limit is {per_minute} (from {limits.describe('max_orders_per_minute')})",
        )
    elif per_day is not None and ledger.orders_today >= per_day:
        rate = Verdict(
            name,
            code,
            Outcome.FAILED,
            f"Rate limit: {ledger.orders_today} orders of this strategy today (UTC), "
            f"the limit is {per_day} (from {limits.describe('max_orders_per_day')})",
        )
    else:
        rate = _RATE_PASSED
    name, code = DUPLICATE_CLIENT_ORDER_ID
    if ledger.duplicate:
        duplicate = Verdict(
            name,
            code,
            Outcome.FAILED,
            "Duplicate client order id: an order with this id was already approved",
        )
    else:
        duplicate = _DUPLICATE_PASSED
    return rate, duplicate


def decide(ctx: TradeContext, verdicts: tuple[Verdict, ...]) -> Decision:
    """The answer from every verdict: the first failure gives the reason and message."""
    failed = [v for v in verdicts if v.outcome is Outcome.FAILED]
    if not failed:
        return Decision(
            True, "", "Order passes every risk check", verdicts, None, _reducing_only(ctx, verdicts)
        )
    first = failed[0]
    return Decision(
        allowed=False,
        reason_code=first.reason_code,
        message=first.message,
        checks=verdicts,
        max_allowed_quantity=largest_passing_quantity(ctx, failed),
        reducing_only=_reducing_only(ctx, verdicts),
    )


def largest_passing_quantity(ctx: TradeContext, failed: list[Verdict]) -> Decimal | None:
    """The largest smaller quantity that passes every rule, when size alone is the problem."""
    sizes = [v.max_quantity for v in failed if v.max_quantity is not None]
    if len(sizes) < len(failed):
        return None
    candidate = min(sizes)
    order = ctx.order
    if candidate <= 0 or candidate >= order.quantity:
        return None
    if not meets_minimum(order.asset_class, candidate, order.price, order.quantity_places == 0):
        return None
    smaller = replace(ctx, order=order.with_quantity(candidate))
    return candidate if rules_pass(evaluate_rules(smaller)) else None


def _reducing_only(ctx: TradeContext, verdicts: tuple[Verdict, ...]) -> bool:
    if ctx.strategy.status is StrategyStatus.REDUCING:
        return True
    if ctx.kill_switch is not None and ctx.kill_switch.mode is SwitchMode.REDUCING:
        return True
    loss_failed = any(v.name in LOSS_RULES and v.outcome is Outcome.FAILED for v in verdicts)
    if loss_failed:
        return True
    # A sell skips the loss rules; the strategy is still in breach.
    if not ctx.grows_position:
        return any(rule.check(ctx) is not None for rule in RULES if rule.name in LOSS_RULES)
    return False
