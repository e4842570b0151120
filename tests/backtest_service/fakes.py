"""Stand-ins for the risk and notification services, served over real gRPC on port 0.

They record what the backtest service sent them (and with which credentials), so tests
check the calls themselves; ``risk_up = False`` makes the risk service answer UNAVAILABLE.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator

import grpc

from trading.notification.v1 import notification_service_pb2 as notification_pb
from trading.notification.v1 import notification_service_pb2_grpc as notification_grpc
from trading.risk.v1 import risk_service_pb2 as risk_pb
from trading.risk.v1 import risk_service_pb2_grpc as risk_grpc
from trading.types.v1 import types_pb2


def _authorization(context) -> str:
    return dict(context.invocation_metadata()).get("authorization", "")


class FakeRisk(risk_grpc.RiskServiceServicer):
    def __init__(self) -> None:
        self.tier = types_pb2.SUBSCRIPTION_TIER_ELITE
        self.risk_up = True
        self.score_requests: list[risk_pb.CalculateRiskScoreRequest] = []
        self.authorizations: list[str] = []

    async def GetProfile(self, request, context):
        self.authorizations.append(_authorization(context))
        if not self.risk_up:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "risk is down (test)")
        return risk_pb.GetProfileResponse(
            profile=risk_pb.Profile(user_id=request.user_id, tier=self.tier)
        )

    async def CalculateRiskScore(self, request, context):
        self.authorizations.append(_authorization(context))
        if not self.risk_up:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "risk is down (test)")
        self.score_requests.append(request)
        return risk_pb.CalculateRiskScoreResponse(
            score=42, exact_score="42.25", level=types_pb2.RISK_LEVEL_MEDIUM
        )


class FakeNotifications(notification_grpc.NotificationServiceServicer):
    def __init__(self) -> None:
        self.backtests: list[notification_pb.NotifyBacktestCompletedRequest] = []
        self.authorizations: list[str] = []

    async def NotifyBacktestCompleted(self, request, context):
        self.authorizations.append(_authorization(context))
        self.backtests.append(request)
        return notification_pb.NotifyBacktestCompletedResponse(
            outcome=notification_pb.NOTIFY_OUTCOME_STORED
        )


class FakePeers:
    """Both fakes on one server; ``address`` is what RISK_ADDRESS/NOTIFICATION_ADDRESS get."""

    def __init__(self) -> None:
        self.risk = FakeRisk()
        self.notifications = FakeNotifications()
        self.address = ""


@contextlib.asynccontextmanager
async def running_peers() -> AsyncIterator[FakePeers]:
    peers = FakePeers()
    # No SO_REUSEPORT: two servers bound to port 0 could otherwise share a port.
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    risk_grpc.add_RiskServiceServicer_to_server(peers.risk, server)
    notification_grpc.add_NotificationServiceServicer_to_server(peers.notifications, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    peers.address = f"127.0.0.1:{port}"
    try:
        yield peers
    finally:
        await server.stop(0)


def closed_port_address() -> str:
    """An address nothing listens on (a port bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"127.0.0.1:{port}"
