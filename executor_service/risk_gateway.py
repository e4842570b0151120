"""Calls to the risk service, each with a deadline and the executor's service identity.

Every failure to get an answer becomes ``RiskUnreachable``: callers fail closed (no
order, no activation) and say why. A trade risk refuses to consider (INVALID_ARGUMENT,
e.g. an order type the asset class does not allow) is an answer: a denial naming why.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import grpc

from trading.risk.v1 import risk_service_pb2 as rpb
from trading.risk.v1 import risk_service_pb2_grpc as rpb_grpc
from trading.types.v1 import types_pb2 as tpb


class RiskUnreachable(Exception):
    """The risk service gave no answer; the reason is in the message."""


# Risk's refusals of the request itself: the order is denied, not unvalidated.
_REFUSALS = frozenset({grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION})
REFUSED_REASON = "ORDER_REFUSED"


@dataclass(frozen=True)
class TradeVerdict:
    allowed: bool
    reason_code: str
    message: str
    risk_event_id: str
    reducing_only: bool


class RiskGateway:
    def __init__(
        self, stub: rpb_grpc.RiskServiceStub, metadata: Callable[[], tuple], deadline: float
    ):
        self._stub = stub
        self._metadata = metadata
        self._deadline = deadline

    async def _call(self, method: str, request):
        try:
            return await getattr(self._stub, method)(
                request, timeout=self._deadline, metadata=self._metadata()
            )
        except grpc.aio.AioRpcError as error:
            raise RiskUnreachable(
                f"risk service {method} failed: {error.code().name}: {error.details()}"
            ) from error

    async def validate_trade(self, request: rpb.ValidateTradeRequest) -> TradeVerdict:
        try:
            reply = await self._call("ValidateTrade", request)
        except RiskUnreachable as error:
            cause = error.__cause__
            if isinstance(cause, grpc.aio.AioRpcError) and cause.code() in _REFUSALS:
                return TradeVerdict(
                    False, REFUSED_REASON, f"Order refused by risk: {cause.details()}", "", False
                )
            raise
        return TradeVerdict(
            reply.allowed,
            reply.reason_code,
            reply.message,
            reply.risk_event_id,
            reply.reducing_only,
        )

    async def risk_score(self, config: tpb.StrategyConfig) -> Decimal:
        reply = await self._call("CalculateRiskScore", rpb.CalculateRiskScoreRequest(config=config))
        return Decimal(reply.exact_score or reply.score)

    async def effective_limits(
        self, user_id: uuid.UUID, config: tpb.StrategyConfig
    ) -> rpb.GetEffectiveLimitsResponse:
        return await self._call(
            "GetEffectiveLimits",
            rpb.GetEffectiveLimitsRequest(user_id=str(user_id), strategy_config=config),
        )

    async def paper_mode(self, user_id: uuid.UUID) -> bool:
        reply = await self._call("GetProfile", rpb.GetProfileRequest(user_id=str(user_id)))
        return reply.profile.paper_mode
