"""Notification service: notify throughput, and unread-count latency on a million rows.

Starts its own embedded PostgreSQL (a temporary directory, deleted afterwards), applies
the migrations, bulk-loads 1,000,000 notifications for 10,000 users with
``generate_series`` (not through the API), and runs the real service on port 0:

- notify throughput: sequential Notify calls (one caller), and 64 calls in flight at once
  (batched), each a new notification for a random user;
- GetUnreadCount latency: sequential calls over gRPC, each as a different signed-in user,
  beside the bare grpc.aio echo round trip measured in the same run. Counts are cached
  per process (kept exact by LISTEN/NOTIFY), so two figures: the steady state (500 users
  cycled, their counts cached after the warm-up) and first reads (each call a user not
  read before: a cache miss, counted in the database).

Run alone: ``python -m bench.bench_notification``.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import tempfile
import time
import uuid

import asyncpg
import grpc

from bench.echo import measure_echo
from bench.harness import measure_latency, measure_throughput, result
from notification_service.config import NotificationSettings
from notification_service.server import build
from servicekit.auth import SERVICE_ROLE, mint_token
from servicekit.db.embedded import start_embedded
from servicekit.db.migrate import migrate
from servicekit.server import running_service
from trading.notification.v1 import notification_service_pb2 as pb
from trading.notification.v1 import notification_service_pb2_grpc as pb_grpc

USERS = 10_000
NOTIFICATIONS = 1_000_000
PER_USER = NOTIFICATIONS // USERS
SECRET = "bench-jwt-secret-0123456789abcdef-0123456789"  # noqa: S105 - throw-away cluster
UNREAD_COUNT_CALLS = 3000
TOKEN_USERS = 500  # distinct signed-in callers cycled through by the latency run
FIRST_READ_CALLS = 1000  # distinct users never read before (cache misses)
THROUGHPUT_SECONDS = 3.0
BATCH_IN_FLIGHT = 64
TIMEOUT = 10.0


def user_id(n: int) -> uuid.UUID:
    """The n-th bench user (1-based), the same id the SQL below generates."""
    return uuid.UUID(f"00000000-0000-4000-8000-{n:012x}")


_BULK_LOAD = f"""
set session_replication_role = replica;  -- bulk load: no per-row trigger or FK checks
insert into auth.users (id, email)
select ('00000000-0000-4000-8000-' || lpad(to_hex(u), 12, '0'))::uuid,
       'bench' || u || '@example.test'
from generate_series(1, {USERS}) u;
-- User by user, with ascending ids, so every index is filled in order (no random page
-- splits); each user gets {PER_USER} notifications, every other one read.
insert into public.user_notifications
    (id, user_id, type, severity, title, body, idempotency_key, created_at, read_at)
select ('10000000-0000-4000-8000-' || lpad(to_hex(u * {PER_USER} + k), 12, '0'))::uuid,
       ('00000000-0000-4000-8000-' || lpad(to_hex(u), 12, '0'))::uuid,
       'trade_executed', 'info',
       'Bought 0.5 BTC at $42,000.00 — Bench Strategy',
       'Bench Strategy bought 0.5 BTC/USD at $42,000.00 for $21,000.00.',
       'bench:' || lpad(k::text, 6, '0'),
       now() - make_interval(secs => {PER_USER} - k),
       case when k % 2 = 0 then now() - make_interval(secs => {PER_USER} - k) end
from generate_series(1, {USERS}) u, generate_series(1, {PER_USER}) k;
set session_replication_role = origin;
"""


# The feed's secondary indexes (not those behind constraints), read from the catalog so the
# bench rebuilds exactly what the migration created: building them once after the load is
# several times faster than maintaining them row by row.
_SECONDARY_INDEXES = """
select indexname, indexdef from pg_indexes
where schemaname = 'public' and tablename = 'user_notifications'
  and indexname not in (select conname from pg_constraint
                        where conrelid = 'public.user_notifications'::regclass)
"""


async def _load(admin_dsn: str) -> float:
    """Bulk-load the users and notifications; returns the seconds it took."""
    started = time.perf_counter()
    conn = await asyncpg.connect(admin_dsn)
    try:
        indexes = await conn.fetch(_SECONDARY_INDEXES)
        for index in indexes:
            await conn.execute(f'drop index public."{index["indexname"]}"')
        await conn.execute(_BULK_LOAD)
        await conn.execute("set maintenance_work_mem = '256MB'")
        for index in indexes:
            await conn.execute(index["indexdef"])
        await conn.execute("vacuum analyze public.user_notifications")
        await conn.execute("vacuum analyze auth.users")
    finally:
        await conn.close()
    return time.perf_counter() - started


async def _create_database(admin_dsn: str) -> str:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute("create database bench_notification")
    finally:
        await conn.close()
    return admin_dsn.replace("/postgres?", "/bench_notification?", 1)


def _metadata(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


async def _unread_count_latency(
    stub: pb_grpc.NotificationServiceStub, callers: list[uuid.UUID], *, warmup: int
) -> tuple[float, float]:
    """p50 and p99 of sequential GetUnreadCount calls, cycling through ``callers``."""
    signed_in = [(str(u), _metadata(mint_token(SECRET, str(u)))) for u in callers]
    requests = itertools.cycle(
        [(pb.GetUnreadCountRequest(user_id=u), metadata) for u, metadata in signed_in]
    )

    async def unread_count() -> object:
        request, metadata = next(requests)
        return await stub.GetUnreadCount(request, metadata=metadata, timeout=TIMEOUT)

    calls = UNREAD_COUNT_CALLS if warmup else len(callers)
    latency = await measure_latency(unread_count, calls, warmup=warmup)
    return latency.p50_ms, latency.p99_ms


async def _notify_throughput(stub: pb_grpc.NotificationServiceStub, in_flight: int) -> float:
    """Notify calls per second (each a new notification) with ``in_flight`` callers."""
    service = _metadata(mint_token(SECRET, "bench", role=SERVICE_ROLE))
    sequence = itertools.count()
    run_id = uuid.uuid4().hex[:8]

    async def notify() -> object:
        n = next(sequence)
        return await stub.Notify(
            pb.NotifyRequest(
                user_id=str(user_id(n % USERS + 1)),
                idempotency_key=f"bench-notify:{run_id}:{n}",
                type=pb.NOTIFICATION_TYPE_SYSTEM,
                title="Maintenance tonight",
                body="The exchange connection restarts at 02:00 UTC.",
            ),
            metadata=service,
            timeout=TIMEOUT,
        )

    return await measure_throughput(notify, in_flight, THROUGHPUT_SECONDS)


async def _measure(database_dsn: str) -> dict[str, float]:
    settings = NotificationSettings(
        app_env="local",
        database_url=database_dsn,
        jwt_secret=SECRET,
        host="127.0.0.1",
        port=0,
        log_level="WARNING",
        db_pool_min_size=4,
        db_pool_max_size=10,
    )
    async with (
        running_service(
            settings, name="notification", role="notification_service", build=build
        ) as app,
        grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel,
    ):
        stub = pb_grpc.NotificationServiceStub(channel)
        users = random.Random(7).sample(range(1, USERS + 1), TOKEN_USERS + FIRST_READ_CALLS)
        cycled = [user_id(n) for n in users[:TOKEN_USERS]]
        first_reads = [user_id(n) for n in users[TOKEN_USERS:]]
        miss_p50, miss_p99 = await _unread_count_latency(stub, first_reads, warmup=0)
        unread_p50, unread_p99 = await _unread_count_latency(stub, cycled, warmup=TOKEN_USERS)
        return {
            "miss_p50": miss_p50,
            "miss_p99": miss_p99,
            "unread_p50": unread_p50,
            "unread_p99": unread_p99,
            "notify_single": await _notify_throughput(stub, 1),
            "notify_batched": await _notify_throughput(stub, BATCH_IN_FLIGHT),
        }


async def _run() -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="bench-notification-") as directory:
        admin_dsn = start_embedded(f"{directory}/data", cleanup_mode="delete")
        database_dsn = await _create_database(admin_dsn)
        await migrate(database_dsn)
        load_seconds = await _load(database_dsn)
        figures = await _measure(database_dsn)
        echo = await measure_echo(concurrency=BATCH_IN_FLIGHT, seconds=2.0, sequential_calls=2000)
    echo_sequential_per_s = 1000.0 / echo.latency.mean_ms
    return [
        result("notification.bulk_load_1m_rows", load_seconds, "s"),
        result(
            "notification.notify_single_caller",
            figures["notify_single"],
            "calls/s",
            baseline="bare grpc.aio echo, one caller",
            baseline_value=echo_sequential_per_s,
            higher_is_better=True,
        ),
        result(
            f"notification.notify_{BATCH_IN_FLIGHT}_in_flight",
            figures["notify_batched"],
            "calls/s",
            baseline=f"bare grpc.aio echo, {BATCH_IN_FLIGHT} callers",
            baseline_value=echo.throughput_per_s,
            higher_is_better=True,
        ),
        result(
            "notification.unread_count_1m_rows_p50",
            figures["unread_p50"],
            "ms",
            baseline="bare grpc.aio echo p50",
            baseline_value=echo.latency.p50_ms,
        ),
        result(
            "notification.unread_count_1m_rows_p99",
            figures["unread_p99"],
            "ms",
            baseline="bare grpc.aio echo p99",
            baseline_value=echo.latency.p99_ms,
        ),
        result(
            "notification.unread_count_1m_rows_first_read_p50",
            figures["miss_p50"],
            "ms",
            baseline="bare grpc.aio echo p50",
            baseline_value=echo.latency.p50_ms,
        ),
        result(
            "notification.unread_count_1m_rows_first_read_p99",
            figures["miss_p99"],
            "ms",
            baseline="bare grpc.aio echo p99",
            baseline_value=echo.latency.p99_ms,
        ),
    ]


def run() -> list[dict]:
    return asyncio.run(_run())


if __name__ == "__main__":
    for row in run():
        print(row)
