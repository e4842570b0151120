"""Risk: preview a trade (checked, never placed), a strategy's risk score, effective limits."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Query

from gateway.deps import Session, UserSession
from gateway.proto_models import enum_value, to_json
from gateway.routers.common import ERROR_RESPONSES, StrategyId
from gateway.routers.strategies import ensure_own_strategy
from gateway.schemas import (
    EffectiveLimits,
    KillSwitchChange,
    KillSwitches,
    KillSwitchState,
    RiskScore,
    TradePreview,
    TradePreviewRequest,
)
from trading.backtest.v1 import backtest_service_pb2 as backtest_pb
from trading.executor.v1 import executor_service_pb2 as executor_pb
from trading.risk.v1 import risk_service_pb2 as pb
from trading.types.v1 import types_pb2

router = APIRouter(tags=["risk"], responses=ERROR_RESPONSES)

_STATES = {
    executor_pb.STRATEGY_STATUS_DRAFT: pb.STRATEGY_STATE_DRAFT,
    executor_pb.STRATEGY_STATUS_ACTIVE: pb.STRATEGY_STATE_ACTIVE,
    executor_pb.STRATEGY_STATUS_PAUSED: pb.STRATEGY_STATE_PAUSED,
    executor_pb.STRATEGY_STATUS_STOPPED: pb.STRATEGY_STATE_STOPPED,
    executor_pb.STRATEGY_STATUS_ERROR: pb.STRATEGY_STATE_ERROR,
}


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text) if text else Decimal(0)
    except InvalidOperation:
        return Decimal(0)
    return value if value.is_finite() else Decimal(0)


def _time_in_force(chosen: str | None, asset_class: int) -> types_pb2.TimeInForce.ValueType:
    """The order's time in force; unset: GTC for crypto (it trades around the clock), else DAY."""
    if chosen:
        return enum_value(types_pb2.TimeInForce, chosen)
    if asset_class == types_pb2.ASSET_CLASS_CRYPTO:
        return types_pb2.TIME_IN_FORCE_GTC
    return types_pb2.TIME_IN_FORCE_DAY


def _account(
    strategy: executor_pb.Strategy,
    positions: list[types_pb2.Position],
    summary: executor_pb.PerformanceSummary | None,
) -> pb.AccountSnapshot:
    """The strategy's account as far as the executor's records tell.

    Equity is the allocated capital plus the strategy's P&L, cash what is not held in
    positions. Today's realized P&L is not known here, so daily-loss rules see zero.
    """
    allocated = _decimal(strategy.config.capital_allocation.allocated_capital)
    realized = _decimal(summary.realized_pnl) if summary else Decimal(0)
    unrealized = _decimal(summary.unrealized_pnl) if summary else Decimal(0)
    equity = allocated + realized + unrealized
    held = sum(
        (
            abs(_decimal(p.quantity)) * _decimal(p.market_price or p.average_entry_price)
            for p in positions
        ),
        Decimal(0),
    )
    cash = equity - held
    return pb.AccountSnapshot(
        cash=str(cash),
        buying_power=str(max(cash, Decimal(0))),
        equity=str(equity),
        realized_pnl_today="0",
        unrealized_pnl=str(unrealized),
        gross_exposure=str(held),
    )


@router.post("/v1/risk/trade-preview", response_model=TradePreview)
async def preview_trade(body: TradePreviewRequest, session: UserSession) -> Any:
    """Run every pre-trade check on an order one of your strategies might place.

    Nothing is placed or recorded: a preview spends none of the strategy's order rate
    limit and leaves no risk event. The answer says whether it would pass, each rule's
    verdict and the largest quantity that would."""
    strategy = await ensure_own_strategy(session, body.strategy_id)
    positions_reply, summary_reply = await asyncio.gather(
        session.executor.ListPositions(
            executor_pb.ListPositionsRequest(
                user_id=session.user_id, strategy_id=strategy.strategy_id
            )
        ),
        session.executor.GetPerformanceSummary(
            executor_pb.GetPerformanceSummaryRequest(
                user_id=session.user_id, strategy_id=strategy.strategy_id
            )
        ),
    )
    positions = [item.position for item in positions_reply.positions]
    summary = summary_reply.summaries[0] if summary_reply.summaries else None
    order = body.order
    request = pb.ValidateTradeRequest(
        user_id=session.user_id,
        order=types_pb2.Order(
            client_order_id=f"preview-{uuid.uuid4().hex}",
            symbol=order.symbol,
            side=enum_value(types_pb2.Side, order.side),
            order_type=enum_value(types_pb2.OrderType, order.order_type),
            time_in_force=_time_in_force(order.time_in_force, strategy.config.asset_class),
            quantity=order.quantity or "",
            notional=order.notional or "",
            limit_price=order.limit_price or "",
            stop_price=order.stop_price or "",
        ),
        asset_class=strategy.config.asset_class,
        price=body.price,
        broker_mode=pb.BROKER_MODE_LIVE if strategy.live else pb.BROKER_MODE_PAPER,
        account=_account(strategy, positions, summary),
        strategy=pb.StrategySnapshot(
            strategy_id=strategy.strategy_id,
            user_id=session.user_id,
            state=_STATES.get(strategy.status, pb.STRATEGY_STATE_UNSPECIFIED),
            config=strategy.config,
            positions=positions,
            realized_pnl_today="0",
            unrealized_pnl=summary.unrealized_pnl if summary else "0",
        ),
        # A preview is not an order: no rate-limit budget spent, no risk event recorded.
        dry_run=True,
    )
    return to_json(await session.risk.ValidateTrade(request))


# A ratio beyond this only comes from a near-flat equity curve; the backtest service
# bounds what it sends to risk the same way, so both ask risk the same question.
_METRIC_BOUND = Decimal(1_000_000)


def _rounded(text: str, places: int = 6) -> str:
    """A backtest figure as the backtest service sends it to risk: 6 places (risk takes
    at most 9), bounded to +-1e6 (empty stays empty)."""
    if not text:
        return ""
    value = max(-_METRIC_BOUND, min(_decimal(text), _METRIC_BOUND))
    return str(value.quantize(Decimal(1).scaleb(-places)))


async def _latest_backtest_metrics(session: Session, strategy_id: str) -> pb.BacktestMetrics | None:
    reply = await session.backtest.ListBacktests(
        backtest_pb.ListBacktestsRequest(
            user_id=session.user_id,
            strategy_id=strategy_id,
            page=types_pb2.PageRequest(limit=1),
        )
    )
    for backtest in reply.backtests:
        if backtest.status == backtest_pb.BACKTEST_STATUS_COMPLETED:
            metrics = backtest.metrics
            return pb.BacktestMetrics(
                max_drawdown_pct=_rounded(metrics.max_drawdown_pct),
                annualized_volatility_pct=_rounded(metrics.volatility_pct),
                sharpe_ratio=_rounded(metrics.sharpe_ratio),
            )
    return None


@router.get("/v1/strategies/{strategy_id}/risk-score", response_model=RiskScore)
async def strategy_risk_score(strategy_id: StrategyId, session: UserSession) -> Any:
    """The 0-100 risk score of the strategy's config with its factors, using the
    metrics of its latest completed backtest when there is one."""
    strategy = await ensure_own_strategy(session, str(strategy_id))
    request = pb.CalculateRiskScoreRequest(config=strategy.config)
    metrics = await _latest_backtest_metrics(session, strategy.strategy_id)
    if metrics is not None:
        request.backtest.CopyFrom(metrics)
    return to_json(await session.risk.CalculateRiskScore(request))


@router.get("/v1/risk/limits", response_model=EffectiveLimits)
async def effective_limits(
    session: UserSession,
    strategy_id: Annotated[
        uuid.UUID | None, Query(description="Include this strategy's own limits.")
    ] = None,
) -> Any:
    """The limits your orders are held to, each with the source that sets it."""
    request = pb.GetEffectiveLimitsRequest(user_id=session.user_id)
    if strategy_id is not None:
        strategy = await ensure_own_strategy(session, str(strategy_id))
        request.strategy_config.CopyFrom(strategy.config)
    return to_json(await session.risk.GetEffectiveLimits(request))


@router.get("/v1/risk/kill-switches", response_model=KillSwitches)
async def list_kill_switches(session: UserSession) -> Any:
    """The kill switches in force for you: platform-wide, your account, your strategies."""
    reply = await session.risk.ListKillSwitches(pb.ListKillSwitchesRequest(user_id=session.user_id))
    return to_json(reply)


async def _set_kill_switch(
    session: Session,
    body: KillSwitchChange,
    scope: pb.KillSwitchScope.ValueType,
    strategy_id: str = "",
) -> Any:
    reply = await session.risk.SetKillSwitch(
        pb.SetKillSwitchRequest(
            scope=scope,
            user_id=session.user_id,
            strategy_id=strategy_id,
            mode=enum_value(pb.KillSwitchMode, body.mode),
            reason=body.reason,
        )
    )
    return to_json(reply)


@router.put("/v1/risk/kill-switch", response_model=KillSwitchState)
async def set_account_kill_switch(body: KillSwitchChange, session: UserSession) -> Any:
    """Stop (or restrict) every strategy of your account at once; `off` lifts your own
    switch (one set by the platform or an operator cannot be lifted here: 403)."""
    return await _set_kill_switch(session, body, pb.KILL_SWITCH_SCOPE_USER)


@router.put("/v1/strategies/{strategy_id}/kill-switch", response_model=KillSwitchState)
async def set_strategy_kill_switch(
    strategy_id: StrategyId, body: KillSwitchChange, session: UserSession
) -> Any:
    """The same for one of your strategies."""
    # The risk service cannot tell whose a strategy is: the executor can.
    strategy = await ensure_own_strategy(session, str(strategy_id))
    return await _set_kill_switch(
        session, body, pb.KILL_SWITCH_SCOPE_STRATEGY, strategy.strategy_id
    )
