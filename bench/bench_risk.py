"""Risk service: ValidateTrade over real gRPC, limits read from the database.

Starts its own embedded PostgreSQL (a temporary directory, deleted afterwards), applies
the migrations and the seed, and runs the real risk service on port 0. Every call is a
full validation of an order that passes every rule: profile, platform limits and kill
switches come from the in-process cache (filled from the database, invalidated by
LISTEN/NOTIFY), and each approval is one round trip to the order ledger (rate limits and
duplicate ids, durable across replicas). Each call has a new client order id.

The bench database raises the per-strategy order rate limits (an operator edit of
platform_config, read by the service like any other), so approvals, not rate-limit
denials, are measured. The account snapshot differs from call to call, as a live
account's does. Measured beside the bare grpc.aio echo, in rounds that alternate between
the two in one event loop (so the machine's noise falls on both): throughput at 64
concurrent callers, and p50/p99 of sequential calls; each figure is the median of its
rounds, and the round-by-round throughput ratios are printed.

Run alone: ``python -m bench.bench_risk``.
"""

from __future__ import annotations

import asyncio
import itertools
import tempfile
import uuid

import asyncpg
import grpc

from bench.echo import echo_caller, echo_server
from bench.harness import compare_latency, compare_throughput, measure_throughput, result
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
ROUNDS = 5
ROUND_SECONDS = 2.0
SEQUENTIAL_CALLS = 1000  # per round
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


def _varying_accounts(count: int) -> list[pb.AccountSnapshot]:
    """Account snapshots that differ from call to call, as a live account's do (equity
    moves with prices), so no cache of parsed snapshots could flatter the figures."""
    return [
        pb.AccountSnapshot(
            cash="5000.00",
            buying_power=f"{5000 + i / 100:.2f}",
            equity=f"{10000 + i / 100:.2f}",
            realized_pnl_today="0",
            unrealized_pnl=f"{-(i % 50)}.{i % 100:02d}",
        )
        for i in range(count)
    ]


async def _measure(admin_dsn: str) -> dict:
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
    async with (
        running_service(settings, name="risk", role="risk_service", build=build) as app,
        echo_server() as echo_port,
        grpc.aio.insecure_channel(f"127.0.0.1:{echo_port}") as echo_channel,
        grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel,
    ):
        await app.risk_cache.wait_listening()
        echo = echo_caller(echo_channel)
        stub = pb_grpc.RiskServiceStub(channel)
        requests = itertools.cycle([_request(str(uuid.uuid4())) for _ in range(STRATEGIES)])
        accounts = itertools.cycle(_varying_accounts(1009))
        ids = itertools.count()
        denied = 0

        async def validate() -> object:
            nonlocal denied
            request = next(requests)
            request.order.client_order_id = f"bench-{next(ids)}"
            request.account.CopyFrom(next(accounts))
            reply = await stub.ValidateTrade(request, metadata=metadata, timeout=TIMEOUT)
            denied += not reply.allowed
            return reply

        await measure_throughput(validate, CONCURRENCY, 1.0)  # warm-up: caches, connections
        throughput = await compare_throughput(
            validate, echo, rounds=ROUNDS, concurrency=CONCURRENCY, seconds=ROUND_SECONDS
        )
        latency, echo_latency = await compare_latency(
            validate, echo, rounds=ROUNDS, calls=SEQUENTIAL_CALLS
        )
        if denied:
            raise RuntimeError(f"{denied} bench orders were denied: the bench measures approvals")

        # For comparison, a call this service answers from memory (no database round trip,
        # no rules): the shared stack (auth, error mapping, protobuf) plus building a
        # response that lists every effective limit with its source.
        limits_request = pb.GetEffectiveLimitsRequest(user_id=DEMO_USER)

        async def read_limits() -> object:
            return await stub.GetEffectiveLimits(limits_request, metadata=metadata, timeout=TIMEOUT)

        floor = await compare_throughput(
            read_limits, echo, rounds=ROUNDS, concurrency=CONCURRENCY, seconds=ROUND_SECONDS
        )
    print(f"  ValidateTrade/echo throughput, round by round: {throughput.round_ratios}")
    return {
        "throughput": throughput,
        "latency": latency,
        "echo_latency": echo_latency,
        "floor": floor,
    }


async def _run() -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="bench-risk-pg-") as directory:
        admin_dsn = start_embedded(f"{directory}/data", cleanup_mode="delete")
        risk = await _measure(admin_dsn)
    throughput, floor = risk["throughput"], risk["floor"]
    latency, echo_latency = risk["latency"], risk["echo_latency"]
    echo_name = f"bare grpc.aio echo, same loop, {ROUNDS} alternating rounds (medians)"
    return [
        result(
            "risk.validate_trade.throughput_64_callers",
            throughput.value,
            "calls/s",
            f"{echo_name}; target >= 0.5",
            throughput.reference,
            higher_is_better=True,
        ),
        result(
            "risk.get_effective_limits.throughput_64_callers",
            floor.value,
            "calls/s",
            f"{echo_name}; a cached answer with no database round trip",
            floor.reference,
            higher_is_better=True,
        ),
        result(
            "risk.validate_trade.sequential_p50",
            latency.p50_ms,
            "ms",
            echo_name,
            echo_latency.p50_ms,
        ),
        result(
            "risk.validate_trade.sequential_p99",
            latency.p99_ms,
            "ms",
            f"{echo_name}; target < 2 ms",
            echo_latency.p99_ms,
        ),
    ]


def run() -> list[dict]:
    return asyncio.run(_run())


if __name__ == "__main__":
    for row in run():
        print(row)
