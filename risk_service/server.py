"""Bootstrap of the risk service: store, cache (with its change listener), validator and
servicer, registered on the shared server."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from risk_service.cache import RiskCache
from risk_service.config import RiskSettings
from risk_service.ledger import DEFAULT_LINGER_SECONDS, LedgerBatcher
from risk_service.service import RiskServicer
from risk_service.store import RiskStore
from risk_service.validator import Clock, TradeValidator, utc_now
from servicekit.server import ServiceApp
from trading.risk.v1 import risk_service_pb2 as pb
from trading.risk.v1 import risk_service_pb2_grpc as pb_grpc

log = logging.getLogger("risk_service.server")

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["RiskService"].full_name
COUNTER_RETENTION = dt.timedelta(days=2)


async def build(app: ServiceApp, *, clock: Clock = utc_now) -> None:
    """Wire the risk service into ``app``. ``clock`` is injectable for tests."""
    settings = app.settings
    max_age = getattr(settings, "cache_max_age_seconds", 60.0)
    retention = dt.timedelta(days=getattr(settings, "ledger_retention_days", 30))
    prune_every = getattr(settings, "prune_interval_seconds", 3600.0)
    linger_ms = getattr(settings, "ledger_linger_ms", DEFAULT_LINGER_SECONDS * 1000)
    store = RiskStore(app.pool)
    cache = RiskCache(store, max_age_seconds=max_age)
    ledger = LedgerBatcher(store, app.pool, linger=linger_ms / 1000)
    validator = TradeValidator(store, cache, ledger, clock)
    pb_grpc.add_RiskServiceServicer_to_server(RiskServicer(store, cache, validator), app.server)
    app.add_service_name(SERVICE_NAME)

    async def listen_for_changes() -> None:
        await cache.listen_forever(app.pool)

    async def prune_ledger() -> None:
        while True:
            now = clock()
            try:
                await store.prune_ledger(now - retention, now - COUNTER_RETENTION)
            except Exception as error:
                log.warning("pruning the order ledger failed: %s", error)
            await asyncio.sleep(prune_every)

    app.on_shutdown(ledger.close)
    app.add_background(listen_for_changes)
    app.add_background(prune_ledger)
    app.risk_cache = cache  # type: ignore[attr-defined]  # tests wait for the listener


__all__ = ["RiskSettings", "build"]
