"""Risk service: ValidateTrade over real gRPC, limits read from the database.

Starts its own embedded PostgreSQL (a temporary directory, deleted afterwards), applies
the migrations and the seed, and runs the real risk service on port 0. Every call is a
full validation of an order that passes every rule: profile, platform limits and kill
switches come from the in-process cache (filled from the database, invalidated by
LISTEN/NOTIFY), and each approval is one round trip to the order ledger (rate limits and
duplicate ids, durable across replicas). Each call has a new client order id.

The bench database raises the per-strategy order rate limits (an operator edit of
platform_config, read by the service like any other), so approvals, not rate-limit
denials, are measured. Measured beside the bare grpc.aio echo in the same run:
throughput at 64 concurrent callers, and p50/p99 of sequential calls.

Run alone: ``python -m bench.bench_risk``.
"""

from __future__ import annotations

import asyncio
import itertools
import tempfile
import uuid

import asyncpg
import grpc

from bench.echo import measure_echo
from bench.harness import measure_latency, measure_throughput, result
from risk_service.config import RiskSettings
from risk_service.server import build
from servicekit.auth import SERVICE_ROLE, mint_token
from servicekit.db.embedded import start_embedded
from servicekit.db.migrate import migrate
from servicekit.server import running_service
from trading.risk.v1 import risk_service_pb2 as pb
from trading.risk.v1 import risk_service_pb2_grpc as pb_grpc
from trading.types.v1 import types_pb2 as types

SECRET = "bench-jwt-secret-0123456789abcdef-0123456789"  # noqa: S105 - throw-away cluster
DEMO_USER = "00000000-0000-4000-8000-000000000001"
CONCURRENCY = 64
THROUGHPUT_SECONDS = 3.0
SEQUENTIAL_CALLS = 2000
STRATEGIES = 64
TIMEOUT = 10.0

_UNLIMITED_RATES = """
update public.platform_config
   set value = value || '{"max_orders_per_minute": 1000000000, "max_orders_per_day": 1000000000}'
 where key = 'default_risk_limits';
update public.platform_config
   set value = (select jsonb_object_agg(tier, limits ||
        '{"max_orders_per_minute": 1000000000, "max_orders_per_day": 1000000000}')
                  from jsonb_each(value) as t(tier, limits))
 where key = 'tier_risk_limits';
"""


def _request(strategy_id: str) -> pb.ValidateTradeRequest:
    """The seed's passing order: 10 AAPL at $150 with $5,000 of buying power."""
    return pb.ValidateTradeRequest(
        user_id=DEMO_USER,
        order=types.Order(
            symbol="AAPL",
            side=types.SIDE_BUY,
            order_type=types.ORDER_TYPE_MARKET,
            time_in_force=types.TIME_IN_FORCE_DAY,
            quantity="10",
        ),
        asset_class=types.ASSET_CLASS_US_EQUITY,
        price="150.00",
        broker_mode=pb.BROKER_MODE_PAPER,
        account=pb.AccountSnapshot(
            cash="5000.00",
            buying_power="5000.00",
            equity="10000.00",
            realized_pnl_today="0",
            unrealized_pnl="0",
        ),
        strategy=pb.StrategySnapshot(
            strategy_id=strategy_id,
            user_id=DEMO_USER,
            state=pb.STRATEGY_STATE_ACTIVE,
            config=types.StrategyConfig(
                capital_allocation=types.CapitalAllocation(allocated_capital="5000"),
                risk_controls=types.RiskControls(stop_loss_pct="5", max_daily_loss_usd="500"),
            ),
            positions=[types.Position(symbol="MSFT", quantity="2", average_entry_price="400")],
        ),
    )


async def _measure(admin_dsn: str) -> dict[str, float]:
    await migrate(admin_dsn, seed=True)
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(_UNLIMITED_RATES)
    finally:
        await conn.close()
    settings = RiskSettings(
        app_env="local",
        database_url=admin_dsn,
        jwt_secret=SECRET,
        host="127.0.0.1",
        port=0,
        db_pool_min_size=4,
        db_pool_max_size=10,
        log_level="WARNING",
    )
    metadata = (("authorization", f"Bearer {mint_token(SECRET, 'bench', role=SERVICE_ROLE)}"),)
    async with running_service(settings, name="risk", role="risk_service", build=build) as app:
        await app.risk_cache.wait_listening()
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{app.port}")
        stub = pb_grpc.RiskServiceStub(channel)
        requests = itertools.cycle([_request(str(uuid.uuid4())) for _ in range(STRATEGIES)])
        ids = itertools.count()
        denied = 0

        async def validate() -> object:
            nonlocal denied
            request = next(requests)
            request.order.client_order_id = f"bench-{next(ids)}"
            reply = await stub.ValidateTrade(request, metadata=metadata, timeout=TIMEOUT)
            denied += not reply.allowed
            return reply

        latency = await measure_latency(validate, SEQUENTIAL_CALLS)
        throughput = await measure_throughput(validate, CONCURRENCY, THROUGHPUT_SECONDS)
        if denied:
            raise RuntimeError(f"{denied} bench orders were denied: the bench measures approvals")

        # The floor of the shared server stack (auth, tracing, error mapping): a call this
        # service answers from memory, with no database round trip and no rules.
        limits_request = pb.GetEffectiveLimitsRequest(user_id=DEMO_USER)

        async def read_limits() -> object:
            return await stub.GetEffectiveLimits(limits_request, metadata=metadata, timeout=TIMEOUT)

        floor = await measure_throughput(read_limits, CONCURRENCY, THROUGHPUT_SECONDS)
        floor_latency = await measure_latency(read_limits, SEQUENTIAL_CALLS)
        await channel.close()
    return {
        "throughput": throughput,
        "p50": latency.p50_ms,
        "p99": latency.p99_ms,
        "floor": floor,
        "floor_p50": floor_latency.p50_ms,
        "floor_p99": floor_latency.p99_ms,
    }


async def _run() -> list[dict]:
    echo = await measure_echo(CONCURRENCY, THROUGHPUT_SECONDS, SEQUENTIAL_CALLS)
    with tempfile.TemporaryDirectory(prefix="bench-risk-pg-") as directory:
        admin_dsn = start_embedded(f"{directory}/data", cleanup_mode="delete")
        risk = await _measure(admin_dsn)
    echo_name = "bare grpc.aio echo (same run)"
    return [
        result(
            "risk.validate_trade.throughput_64_callers",
            risk["throughput"],
            "calls/s",
            f"{echo_name}; target >= 0.5",
            echo.throughput_per_s,
            higher_is_better=True,
        ),
        result(
            "risk.get_effective_limits.throughput_64_callers",
            risk["floor"],
            "calls/s",
            f"{echo_name}; the server stack's floor (cached answer, no database)",
            echo.throughput_per_s,
            higher_is_better=True,
        ),
        result(
            "risk.validate_trade.sequential_p50",
            risk["p50"],
            "ms",
            echo_name,
            echo.latency.p50_ms,
        ),
        result(
            "risk.validate_trade.sequential_p99",
            risk["p99"],
            "ms",
            f"{echo_name}; target < 2 ms",
            echo.latency.p99_ms,
        ),
        result(
            "risk.get_effective_limits.sequential_p50",
            risk["floor_p50"],
            "ms",
            f"{echo_name}; the server stack's floor",
            echo.latency.p50_ms,
        ),
        result(
            "risk.get_effective_limits.sequential_p99",
            risk["floor_p99"],
            "ms",
            f"{echo_name}; the server stack's floor",
            echo.latency.p99_ms,
        ),
    ]


def run() -> list[dict]:
    return asyncio.run(_run())


if __name__ == "__main__":
    for row in run():
        print(row)
