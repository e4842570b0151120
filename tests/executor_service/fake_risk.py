"""A scriptable stand-in for the risk service, for tests of the executor's own behaviour
(what it does with each kind of answer, and with no answer). Flows that are about risk's
rules use the real risk service."""

from __future__ import annotations

import grpc

from trading.risk.v1 import risk_service_pb2 as rpb
from trading.risk.v1 import risk_service_pb2_grpc as rpb_grpc
from trading.types.v1 import types_pb2 as tpb


class FakeRisk(rpb_grpc.RiskServiceServicer):
    def __init__(self):
        self.allow = True
        self.down = False
        self.paper_mode = True
        self.max_positions = "20"
        # Order types refused as invalid, as risk refuses types an asset class lacks.
        self.refused_order_types: set[int] = set()
        # Orders (side, type) denied as a rule would deny them.
        self.denied: set[tuple[int, int]] = set()
        self.validated: list[rpb.ValidateTradeRequest] = []

    async def _maybe_down(self, context):
        if self.down:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "risk is down (test)")

    async def ValidateTrade(self, request, context):
        await self._maybe_down(context)
        self.validated.append(request)
        if request.order.order_type in self.refused_order_types:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, "order.order_type: not allowed (test)"
            )
        if self.allow and (request.order.side, request.order.order_type) not in self.denied:
            return rpb.ValidateTradeResponse(allowed=True)
        return rpb.ValidateTradeResponse(
            allowed=False,
            reason_code="INSUFFICIENT_BUYING_POWER",
            message="Insufficient buying power (test)",
            risk_event_id="evt-1",
        )

    async def CalculateRiskScore(self, request, context):
        await self._maybe_down(context)
        return rpb.CalculateRiskScoreResponse(score=42, exact_score="42.50")

    async def GetEffectiveLimits(self, request, context):
        await self._maybe_down(context)
        return rpb.GetEffectiveLimitsResponse(
            tier=tpb.SUBSCRIPTION_TIER_STARTER,
            limits=[
                rpb.EffectiveLimit(
                    name="max_positions",
                    value=self.max_positions,
                    source=rpb.LIMIT_SOURCE_TIER,
                    candidates=[
                        rpb.LimitCandidate(source=rpb.LIMIT_SOURCE_TIER, value=self.max_positions)
                    ],
                ),
                rpb.EffectiveLimit(
                    name="allowed_asset_classes",
                    value="crypto,us_equity",
                    source=rpb.LIMIT_SOURCE_TIER,
                ),
            ],
        )

    async def GetProfile(self, request, context):
        await self._maybe_down(context)
        return rpb.GetProfileResponse(
            profile=rpb.Profile(user_id=request.user_id, paper_mode=self.paper_mode)
        )


async def start_fake_risk() -> tuple[grpc.aio.Server, int, FakeRisk]:
    server = grpc.aio.server()
    fake = FakeRisk()
    rpb_grpc.add_RiskServiceServicer_to_server(fake, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, port, fake
