"""ValidateTrade end to end: cached limits and switches, the rules, the order ledger,
and the risk event of a denial. Any failure to decide raises RiskValidationError, which
reaches the caller as UNAVAILABLE: the caller then fails closed (treats it as a denial).

A dry run (a preview) takes the same path and reads the same ledger counts, so it
answers exactly what a real validation would at that moment, but writes nothing.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from risk_service.cache import RiskCache
from risk_service.context import Book, TradeContext
from risk_service.engine import (
    Decision,
    LedgerEntry,
    decide,
    evaluate_rules,
    ledger_verdicts,
    rules_pass,
)
from risk_service.kill_switch import governing_switch
from risk_service.ledger import LedgerBatcher
from risk_service.limits import EffectiveLimits, effective_limits
from risk_service.model import Account, OrderRequest, Strategy
from risk_service.store import RiskStore
from servicekit.errors import DomainError, NotFound, PermissionDenied, Unavailable
from servicekit.money import format_decimal

log = logging.getLogger("risk_service.validator")

Clock = Callable[[], dt.datetime]
MAX_CACHED_LIMITS = 4096


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class RiskValidationError(Unavailable):
    """The service could not decide on an order; the caller must fail closed."""

    reason = "RISK_VALIDATION_FAILED"


@dataclass(frozen=True, slots=True)
class Validation:
    decision: Decision
    risk_event_id: uuid.UUID | None


class TradeValidator:
    def __init__(
        self, store: RiskStore, cache: RiskCache, ledger: LedgerBatcher, clock: Clock = utc_now
    ):
        self._store = store
        self._cache = cache
        self._ledger = ledger
        self._clock = clock
        # Effective limits per (tier, tolerance, strategy limits), for one platform state.
        self._limits_of: object = None
        self._limits: dict[tuple, EffectiveLimits] = {}

    def _effective_limits(self, platform, profile, strategy: Strategy) -> EffectiveLimits:
        if platform is not self._limits_of or len(self._limits) > MAX_CACHED_LIMITS:
            self._limits_of, self._limits = platform, {}
        key = (profile.tier, profile.risk_tolerance, strategy.limits)
        limits = self._limits.get(key)
        if limits is None:
            limits = effective_limits(
                platform.config, profile.tier, profile.risk_tolerance, strategy.limits
            )
            self._limits[key] = limits
        return limits

    async def validate(
        self,
        user_id: uuid.UUID,
        order: OrderRequest,
        account: Account,
        strategy: Strategy,
        live: bool,
        dry_run: bool = False,
    ) -> Validation:
        """Decide on one order. Raises RiskValidationError when it cannot decide.

        ``dry_run``: decide the same way, but reserve nothing in the order ledger and
        record no risk event."""
        if strategy.user_id != user_id:
            raise PermissionDenied("strategy.user_id", "the strategy belongs to another user")
        try:
            return await self._validate(user_id, order, account, strategy, live, dry_run)
        except DomainError:
            raise
        except asyncpg.ForeignKeyViolationError:
            raise NotFound(f"user {user_id} does not exist", field="user_id") from None
        except Exception as error:
            log.exception("cannot validate order %s", order.client_order_id)
            raise RiskValidationError(
                f"risk validation failed ({type(error).__name__}); treat the order as denied"
            ) from error

    async def _validate(
        self,
        user_id: uuid.UUID,
        order: OrderRequest,
        account: Account,
        strategy: Strategy,
        live: bool,
        dry_run: bool,
    ) -> Validation:
        platform = await self._cache.platform()
        user = await self._cache.user(user_id)
        profile = user.profile
        limits = self._effective_limits(platform, profile, strategy)
        ctx = TradeContext(
            order=order,
            account=account,
            strategy=strategy,
            profile=profile,
            limits=limits,
            book=Book.of(order, strategy),
            kill_switch=governing_switch(
                itertools.chain(platform.switches, user.switches), user_id, strategy.strategy_id
            ),
            live=live,
            fee_pct=platform.config.fee_pct[order.asset_class],
            now=self._clock(),
        )
        verdicts = evaluate_rules(ctx)
        # A dry run asks the ledger the same questions (counts, is the id taken) but
        # records nothing: reserve=False makes the ledger a pure read.
        reserve = rules_pass(verdicts) and not dry_run
        ledger = await self._ledger.reserve(
            LedgerEntry(
                user_id=user_id,
                strategy_id=strategy.strategy_id,
                client_order_id=order.client_order_id,
                symbol=order.symbol,
                side=order.side.value,
                quantity=order.quantity,
                notional=order.notional,
                now=ctx.now,
                reserve=reserve,
                max_per_minute=limits.value("max_orders_per_minute"),
                max_per_day=limits.value("max_orders_per_day"),
            )
        )
        decision = decide(ctx, verdicts + ledger_verdicts(ledger, limits))
        if ledger.reserved != (decision.allowed and not dry_run):
            raise RiskValidationError("the order ledger and the rules disagree")
        if decision.allowed or dry_run:
            return Validation(decision, None)
        event_id = await self._store.record_event(
            user_id=user_id,
            strategy_id=strategy.strategy_id,
            event_type="trade_blocked",
            reason_code=decision.reason_code,
            message=decision.message,
            details=event_details(ctx, decision),
        )
        return Validation(decision, event_id)


def _limits_summary(limits: EffectiveLimits) -> dict[str, Any]:
    summary = {}
    for name, limit in limits.limits.items():
        value = limit.value
        shown = sorted(item.value for item in value) if isinstance(value, frozenset) else value
        summary[name] = {"value": shown, "source": limit.source}
    return summary


def event_details(ctx: TradeContext, decision: Decision) -> dict[str, Any]:
    """The inputs of a denial, as stored with its risk event."""
    order, account, strategy = ctx.order, ctx.account, ctx.strategy
    return {
        "order": {
            "client_order_id": order.client_order_id,
            "symbol": order.symbol,
            "asset_class": order.asset_class,
            "side": order.side,
            "order_type": order.order_type,
            "time_in_force": order.time_in_force,
            "quantity": format_decimal(order.quantity),
            "price": format_decimal(order.price),
            "notional": format_decimal(order.notional),
        },
        "account": {
            "cash": format_decimal(account.cash),
            "buying_power": format_decimal(account.buying_power),
            "equity": format_decimal(account.equity),
            "realized_pnl_today": format_decimal(account.realized_pnl_today),
            "unrealized_pnl": format_decimal(account.unrealized_pnl),
            "peak_equity": format_decimal(account.peak_equity),
        },
        "strategy": {
            "status": strategy.status,
            "positions": [
                {"symbol": p.symbol, "quantity": format_decimal(p.quantity)}
                for p in strategy.positions
            ],
            "open_orders": len(strategy.open_orders),
            "realized_pnl_today": format_decimal(strategy.realized_pnl_today),
            "unrealized_pnl": format_decimal(strategy.unrealized_pnl),
            "allocated_capital": format_decimal(strategy.allocated_capital),
        },
        "profile": {
            "tier": ctx.profile.tier,
            "risk_tolerance": ctx.profile.risk_tolerance,
            "paper_mode": ctx.profile.paper_mode,
        },
        "live": ctx.live,
        "kill_switch": ctx.kill_switch.describe() if ctx.kill_switch else None,
        "limits": _limits_summary(ctx.limits),
        "failed_checks": [
            {"name": v.name, "reason_code": v.reason_code, "message": v.message}
            for v in decision.failed
        ],
        "max_allowed_quantity": format_decimal(decision.max_allowed_quantity),
        "evaluated_at": ctx.now.isoformat(),
    }
