"""Gateway: a read route over HTTP beside the same call made straight over gRPC.

Starts its own embedded PostgreSQL (a temporary directory, deleted afterwards), applies
the migrations, runs the notification service (the only service on the measured path)
and the gateway (uvicorn on 127.0.0.1:0) in this process, and measures
``GET /v1/notifications/unread-count`` for one signed-in user against
``NotificationService.GetUnreadCount`` called directly with the same token:

- sequential latency (p50/p99): one caller, one request at a time;
- throughput: 32 callers in flight for a few seconds.

The HTTP figures include the client (httpx) running in the same process and event
loop, as the gRPC figures include grpc.aio's client. Run alone: ``python -m bench.bench_gateway``.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator

import asyncpg
import grpc
import httpx
import uvicorn

from bench.harness import measure_latency, measure_throughput, result
from gateway.app import create_app
from gateway.config import GatewaySettings
from notification_service.config import NotificationSettings
from notification_service.server import build
from servicekit.auth import mint_token
from servicekit.clients import bearer_metadata
from servicekit.db.embedded import start_embedded
from servicekit.db.migrate import migrate
from servicekit.server import running_service
from trading.notification.v1 import notification_service_pb2 as pb
from trading.notification.v1 import notification_service_pb2_grpc as pb_grpc

# httpcore looks for `sniffio` on every request; it is not installed, and each failed
# import searches sys.path (~1 ms per request). A None entry makes the miss instant, so
# the figure is the gateway's, not the client's import machinery.
sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]

SECRET = "bench-jwt-secret-0123456789abcdef-0123456789"  # noqa: S105 - throw-away cluster
SEQUENTIAL_CALLS = 2000
WARMUP_CALLS = 200
CONCURRENCY = 32
THROUGHPUT_SECONDS = 3.0
TIMEOUT = 10.0
UNREAD = 7


async def _seed_user(admin_dsn: str) -> uuid.UUID:
    """A user with a few unread notifications (inserted directly, not through the API)."""
    user_id = uuid.uuid4()
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(
            "insert into auth.users (id, email) values ($1, $2)", user_id, "bench@example.test"
        )
        await conn.executemany(
            "insert into public.user_notifications"
            " (user_id, type, severity, title, body, idempotency_key)"
            " values ($1, 'system', 'info', 'Bench', 'Bench notification', $2)",
            [(user_id, f"bench:{n}") for n in range(UNREAD)],
        )
    finally:
        await conn.close()
    return user_id


@contextlib.asynccontextmanager
async def _gateway(settings: GatewaySettings) -> AsyncIterator[str]:
    """The gateway served by uvicorn on 127.0.0.1:0 in this loop; yields its base URL."""
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=0, log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


async def _measure(admin_dsn: str) -> list[dict]:
    await migrate(admin_dsn)
    user_id = await _seed_user(admin_dsn)
    token = mint_token(SECRET, str(user_id))
    common = {"app_env": "local", "database_url": admin_dsn, "jwt_secret": SECRET}
    service_settings = NotificationSettings(**common, host="127.0.0.1", port=0)
    async with running_service(
        service_settings, name="notification", role="notification_service", build=build
    ) as service:
        address = f"127.0.0.1:{service.port}"
        gateway_settings = GatewaySettings(
            **common, notification_address=address, readiness_checks_database=False
        )
        async with (
            _gateway(gateway_settings) as base_url,
            httpx.AsyncClient(
                base_url=base_url,
                headers={"Authorization": f"Bearer {token}"},
                limits=httpx.Limits(
                    max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY
                ),
                timeout=TIMEOUT,
            ) as client,
            grpc.aio.insecure_channel(address) as channel,
        ):
            stub = pb_grpc.NotificationServiceStub(channel)
            request = pb.GetUnreadCountRequest(user_id=str(user_id))
            metadata = bearer_metadata(token)

            async def over_http() -> object:
                response = await client.get("/v1/notifications/unread-count")
                if response.status_code != 200 or response.json()["unread_count"] != UNREAD:
                    raise RuntimeError(f"unexpected answer: {response.status_code} {response.text}")
                return response

            async def over_grpc() -> object:
                reply = await stub.GetUnreadCount(request, metadata=metadata, timeout=TIMEOUT)
                if reply.unread_count != UNREAD:
                    raise RuntimeError(f"unexpected unread count {reply.unread_count}")
                return reply

            grpc_latency = await measure_latency(over_grpc, SEQUENTIAL_CALLS, WARMUP_CALLS)
            http_latency = await measure_latency(over_http, SEQUENTIAL_CALLS, WARMUP_CALLS)
            grpc_rate = await measure_throughput(over_grpc, CONCURRENCY, THROUGHPUT_SECONDS)
            http_rate = await measure_throughput(over_http, CONCURRENCY, THROUGHPUT_SECONDS)

    direct = "NotificationService.GetUnreadCount straight over gRPC, same run"
    return [
        result(
            f"gateway.unread_count.throughput_{CONCURRENCY}_callers",
            http_rate,
            "req/s",
            baseline=direct,
            baseline_value=grpc_rate,
            higher_is_better=True,
        ),
        result(
            "gateway.unread_count.sequential_p50",
            http_latency.p50_ms,
            "ms",
            baseline=direct,
            baseline_value=grpc_latency.p50_ms,
        ),
        result(
            "gateway.unread_count.sequential_p99",
            http_latency.p99_ms,
            "ms",
            baseline=direct,
            baseline_value=grpc_latency.p99_ms,
        ),
    ]


def run() -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="bench-gateway-") as data_dir:
        admin_dsn = start_embedded(f"{data_dir}/pg", cleanup_mode="delete")
        return asyncio.run(_measure(admin_dsn))


if __name__ == "__main__":
    for row in run():
        print(row)
