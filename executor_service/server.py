"""Bootstrap only: build the executor's stores, clients and servicer, and its background work.

Background tasks: the outbox relay (notifications), the performance summary refresher,
and, when EXECUTOR_RUN_BOTS is on, the bot runner, which starts trading only after
restart reconciliation succeeded (reconcile.py).
"""

from __future__ import annotations

import asyncio
import logging

from executor_service.brokers.directory import BrokerDirectory
from executor_service.brokers.fill_model import FillTerms
from executor_service.brokers.paper import PaperExchange
from executor_service.config import ExecutorSettings
from executor_service.credentials import CredentialCipher
from executor_service.outbox import OutboxRelay
from executor_service.reports import CredentialStore, ReportStore
from executor_service.risk_gateway import RiskGateway
from executor_service.service import ExecutorServicer
from executor_service.store import StrategyStore
from servicekit import clients
from servicekit.server import ServiceApp
from trading.executor.v1 import executor_service_pb2_grpc as pb_grpc
from trading.notification.v1 import notification_service_pb2_grpc as npb_grpc
from trading.risk.v1 import risk_service_pb2_grpc as rpb_grpc

log = logging.getLogger("executor_service.server")

SERVICE_NAME = "trading.executor.v1.ExecutorService"


def paper_exchange(app: ServiceApp, settings: ExecutorSettings) -> PaperExchange:
    terms = FillTerms(
        fee_bps=settings.paper_fee_bps,
        slippage_bps=settings.paper_slippage_bps,
        max_volume_fraction=settings.paper_max_volume_fraction,
    )
    return PaperExchange(app.pool, terms, settings.paper_starting_cash)


async def build(app: ServiceApp) -> None:
    settings: ExecutorSettings = app.settings  # type: ignore[assignment]

    def identity() -> tuple:
        return clients.service_metadata(settings, "executor")

    risk_channel = clients.connect(settings.risk_address)
    notification_channel = clients.connect(settings.notification_address)
    risk = RiskGateway(
        rpb_grpc.RiskServiceStub(risk_channel), identity, settings.risk_deadline_seconds
    )
    strategies = StrategyStore(app.pool)
    reports = ReportStore(app.pool)
    credentials = CredentialStore(app.pool)
    cipher = CredentialCipher(settings.credentials_key)
    exchange = paper_exchange(app, settings)
    brokers = BrokerDirectory(
        exchange,
        credentials,
        cipher,
        live_enabled=settings.alpaca_live_enabled,
        alpaca_url_override=settings.alpaca_base_url,
    )
    servicer = ExecutorServicer(
        strategies,
        reports,
        credentials,
        cipher,
        risk,
        brokers,
        alpaca_live_enabled=settings.alpaca_live_enabled,
    )
    pb_grpc.add_ExecutorServiceServicer_to_server(servicer, app.server)
    app.add_service_name(SERVICE_NAME)

    relay = OutboxRelay(
        app.pool,
        npb_grpc.NotificationServiceStub(notification_channel),
        identity,
        deadline=settings.notification_deadline_seconds,
        batch_size=settings.outbox_batch_size,
        max_backoff=settings.outbox_max_backoff_seconds,
    )

    async def relay_outbox() -> None:
        await relay.run(settings.outbox_poll_seconds)

    async def refresh_performance() -> None:
        while True:
            try:
                await reports.refresh_performance()
            except Exception as error:  # a failed refresh leaves the last one readable
                log.warning("performance summary refresh failed: %s", error)
            await asyncio.sleep(settings.performance_refresh_seconds)

    app.add_background(relay_outbox)
    app.add_background(refresh_performance)

    if settings.run_bots:
        from executor_service.runner import start_runner

        app.add_background(start_runner(app, settings, strategies, risk, exchange, brokers))

    async def close_channels() -> None:
        await risk_channel.close()
        await notification_channel.close()

    app.on_shutdown(close_channels)
