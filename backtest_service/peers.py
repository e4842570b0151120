"""Calls to the risk and notification services, with deadlines and the service identity.

Every call carries ``service_metadata`` (a short-lived service_role token) and a deadline.
A peer that cannot be reached is reported as such to the caller, which decides: a result
is stored without a risk score (saying why), a tier falls back to the most restrictive
one, a notification is retried by the worker's sweep.
"""

from __future__ import annotations

import logging
import uuid
from decimal import Decimal

import grpc

from backtest_service.config import BacktestSettings
from backtest_service.jobs import RiskAssessment
from servicekit.clients import connect, service_metadata
from servicekit.money import format_decimal
from trading.notification.v1 import notification_service_pb2 as notification_pb
from trading.notification.v1 import notification_service_pb2_grpc as notification_grpc
from trading.risk.v1 import risk_service_pb2 as risk_pb
from trading.risk.v1 import risk_service_pb2_grpc as risk_grpc
from trading.types.v1 import types_pb2

log = logging.getLogger("backtest_service.peers")

SERVICE_SUBJECT = "backtest-service"

TIER_NAMES = {
    types_pb2.SUBSCRIPTION_TIER_STARTER: "starter",
    types_pb2.SUBSCRIPTION_TIER_PRO: "pro",
    types_pb2.SUBSCRIPTION_TIER_ELITE: "elite",
}

NOTIFY_OUTCOMES = {
    "completed": notification_pb.BACKTEST_OUTCOME_SUCCEEDED,
    "failed": notification_pb.BACKTEST_OUTCOME_FAILED,
    "cancelled": notification_pb.BACKTEST_OUTCOME_CANCELLED,
}


class RiskPeer:
    """The risk service: a user's tier, and the risk score of a backtested strategy."""

    def __init__(self, settings: BacktestSettings):
        self._settings = settings
        self._channel = connect(settings.risk_address)
        self._stub = risk_grpc.RiskServiceStub(self._channel)

    async def close(self) -> None:
        await self._channel.close()

    async def tier_of(self, user_id: uuid.UUID) -> str | None:
        """The user's subscription tier, or None when risk cannot tell us."""
        try:
            response = await self._stub.GetProfile(
                risk_pb.GetProfileRequest(user_id=str(user_id)),
                timeout=self._settings.risk_deadline_seconds,
                metadata=service_metadata(self._settings, SERVICE_SUBJECT),
            )
        except grpc.aio.AioRpcError as error:
            log.warning("risk GetProfile failed (%s): %s", error.code().name, error.details())
            return None
        return TIER_NAMES.get(response.profile.tier)

    async def score(self, config: types_pb2.StrategyConfig, metrics: dict) -> RiskAssessment:
        """The risk score of a strategy with its backtest metrics; never invented: when the
        risk service cannot answer, the assessment says so and carries no score."""
        request = risk_pb.CalculateRiskScoreRequest(
            config=config,
            backtest=risk_pb.BacktestMetrics(
                max_drawdown_pct=risk_metric(_metric(metrics, "max_drawdown_pct")),
                annualized_volatility_pct=risk_metric(_metric(metrics, "volatility_pct")),
                sharpe_ratio=risk_metric(_metric(metrics, "sharpe_ratio")),
            ),
        )
        try:
            response = await self._stub.CalculateRiskScore(
                request,
                timeout=self._settings.risk_deadline_seconds,
                metadata=service_metadata(self._settings, SERVICE_SUBJECT),
            )
        except grpc.aio.AioRpcError as error:
            log.warning(
                "risk CalculateRiskScore failed (%s): %s", error.code().name, error.details()
            )
            return RiskAssessment(
                score=None,
                status="unavailable",
                note=f"the risk service did not score this run ({error.code().name}); "
                "the result is stored without a risk score",
            )
        exact = response.exact_score or str(response.score)
        return RiskAssessment(score=Decimal(exact), status="scored")


class NotificationPeer:
    """The notification service: tells the user a backtest finished."""

    def __init__(self, settings: BacktestSettings):
        self._settings = settings
        self._channel = connect(settings.notification_address)
        self._stub = notification_grpc.NotificationServiceStub(self._channel)

    async def close(self) -> None:
        await self._channel.close()

    async def backtest_finished(
        self,
        *,
        backtest_id: uuid.UUID,
        user_id: uuid.UUID,
        strategy_id: uuid.UUID | None,
        strategy_name: str,
        status: str,
        metrics: dict | None,
        error: str | None,
    ) -> bool:
        """Send the notification (idempotent on the backtest id); True once delivered."""
        metrics = metrics or {}
        request = notification_pb.NotifyBacktestCompletedRequest(
            user_id=str(user_id),
            idempotency_key=f"backtest:{backtest_id}",
            backtest_id=str(backtest_id),
            strategy_id=str(strategy_id) if strategy_id else "",
            strategy_name=strategy_name,
            outcome=NOTIFY_OUTCOMES[status],
            total_return_pct=_metric(metrics, "total_return_pct"),
            sharpe_ratio=_metric(metrics, "sharpe_ratio"),
            max_drawdown_pct=_metric(metrics, "max_drawdown_pct"),
            total_trades=int(metrics.get("trade_count") or 0),
            error_message=error or "",
        )
        try:
            await self._stub.NotifyBacktestCompleted(
                request,
                timeout=self._settings.notification_deadline_seconds,
                metadata=service_metadata(self._settings, SERVICE_SUBJECT),
            )
        except grpc.aio.AioRpcError as error_:
            log.warning(
                "NotifyBacktestCompleted for %s failed (%s); the sweep will retry",
                backtest_id,
                error_.code().name,
            )
            return False
        return True


def _metric(metrics: dict, key: str) -> str:
    """A metric as a decimal string ("" when absent)."""
    value = metrics.get(key)
    return "" if value is None else str(value)


# The precision of the figures sent to the risk service. Its wire takes at most 9
# decimal places; the engine keeps 10 (float noise, not information). 6 places of a
# percentage or a ratio is far below what moves a score (contributions are in cents),
# and the gateway's risk-score route sends the same figures at the same precision, so
# a stored score and a recomputed one agree.
RISK_METRIC_PLACES = 6
_RISK_QUANTUM = Decimal(1).scaleb(-RISK_METRIC_PLACES)
# A ratio this large only comes from a near-zero denominator (a flat equity curve); the
# risk wire refuses magnitudes from 1e15, and any Sharpe above a few scores the same.
_RISK_METRIC_BOUND = Decimal(1_000_000)


def risk_metric(text: str) -> str:
    """A stored metric as the risk service takes it: rounded half-even to
    ``RISK_METRIC_PLACES`` places, bounded to +-1e6 ("" when absent or not a number)."""
    try:
        value = Decimal(text) if text else None
    except ArithmeticError:
        return ""
    if value is None or not value.is_finite():
        return ""
    value = max(-_RISK_METRIC_BOUND, min(value, _RISK_METRIC_BOUND))
    return format_decimal(value.quantize(_RISK_QUANTUM))
