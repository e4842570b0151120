"""The four services the gateway fronts: one channel each, their stubs, their health."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.config import GatewaySettings
from servicekit.clients import connect
from trading.backtest.v1 import backtest_service_pb2_grpc as backtest_grpc
from trading.executor.v1 import executor_service_pb2_grpc as executor_grpc
from trading.notification.v1 import notification_service_pb2_grpc as notification_grpc
from trading.risk.v1 import risk_service_pb2_grpc as risk_grpc

SERVICE_NAMES = ("risk", "backtest", "notification", "executor")


@dataclass
class Upstreams:
    """Channels to the services (``connect`` adds trace propagation) and their stubs."""

    channels: dict[str, grpc.aio.Channel]
    owned: bool = True  # close the channels on shutdown (False when a caller lent them)
    risk: risk_grpc.RiskServiceStub = field(init=False)
    backtest: backtest_grpc.BacktestServiceStub = field(init=False)
    notification: notification_grpc.NotificationServiceStub = field(init=False)
    executor: executor_grpc.ExecutorServiceStub = field(init=False)

    def __post_init__(self) -> None:
        self.risk = risk_grpc.RiskServiceStub(self.channels["risk"])
        self.backtest = backtest_grpc.BacktestServiceStub(self.channels["backtest"])
        self.notification = notification_grpc.NotificationServiceStub(self.channels["notification"])
        self.executor = executor_grpc.ExecutorServiceStub(self.channels["executor"])

    @classmethod
    def connect(cls, settings: GatewaySettings) -> Upstreams:
        """Channels to the addresses in ``settings`` (created in the running event loop)."""
        addresses = {name: getattr(settings, f"{name}_address") for name in SERVICE_NAMES}
        return cls({name: connect(address) for name, address in addresses.items()})

    async def close(self) -> None:
        if self.owned:
            await asyncio.gather(*(channel.close() for channel in self.channels.values()))

    async def health(self, timeout: float) -> dict[str, str]:
        """Each service's grpc.health.v1 status ("serving", "not_serving", "unreachable")."""
        names = list(self.channels)
        results = await asyncio.gather(*(self._check(n, timeout) for n in names))
        return dict(zip(names, results, strict=True))

    async def _check(self, name: str, timeout: float) -> str:
        stub = health_pb2_grpc.HealthStub(self.channels[name])
        try:
            reply = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=timeout)
        except grpc.RpcError:
            return "unreachable"
        if reply.status == health_pb2.HealthCheckResponse.SERVING:
            return "serving"
        return "not_serving"
