"""The outbox relay: delivers queued notifications to the notification service.

Rows are written in the same transaction as the order, fill or status change they
announce (``ledger.write_outbox``); this relay sends each with its idempotency key, so a
row delivered twice (a crash after the call, before marking it) is stored once by the
notification service. Failures are retried with exponential backoff; a row the service
refuses as malformed is set aside (``given_up_at``) instead of blocking the queue.
Rows are claimed with FOR UPDATE SKIP LOCKED, so several replicas can relay at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import asyncpg
import grpc
from google.protobuf import json_format

from trading.notification.v1 import notification_service_pb2 as npb
from trading.notification.v1 import notification_service_pb2_grpc as npb_grpc

log = logging.getLogger("executor_service.outbox")

_REQUESTS = {
    "trade_executed": ("NotifyTradeExecuted", npb.NotifyTradeExecutedRequest),
    "risk_event": ("NotifyRiskEvent", npb.NotifyRiskEventRequest),
    "notify": ("Notify", npb.NotifyRequest),
}

# Refusals that a retry cannot fix.
_PERMANENT = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.UNIMPLEMENTED,
    }
)


def build_request(kind: str, idempotency_key: str, payload: dict):
    """The Notify* request of an outbox row: its payload plus its idempotency key."""
    method, request_type = _REQUESTS[kind]
    request = json_format.ParseDict(payload, request_type(), ignore_unknown_fields=True)
    request.idempotency_key = idempotency_key
    return method, request


def backoff_seconds(attempts: int, ceiling: float) -> float:
    return min(ceiling, 0.5 * 2 ** min(attempts, 16))


class OutboxRelay:
    """Claims due rows, calls the notification service, records the outcome."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        stub: npb_grpc.NotificationServiceStub,
        metadata: Callable[[], tuple],
        *,
        deadline: float,
        batch_size: int = 50,
        max_backoff: float = 60.0,
    ):
        self._pool = pool
        self._stub = stub
        self._metadata = metadata
        self._deadline = deadline
        self._batch_size = batch_size
        self._max_backoff = max_backoff

    async def deliver_due(self) -> int:
        """Deliver one batch of due rows; the number delivered."""
        delivered = 0
        async with self._pool.acquire() as connection, connection.transaction():
            rows = await connection.fetch(
                """
                select id, kind, idempotency_key, payload, attempts from outbox
                where delivered_at is null and given_up_at is null and next_attempt_at <= now()
                order by id limit $1 for update skip locked
                """,
                self._batch_size,
            )
            for row in rows:
                error = await self._send(row)
                if error is None:
                    delivered += 1
                    await connection.execute(
                        "update outbox set delivered_at = now(), attempts = attempts + 1,"
                        " last_error = '' where id = $1",
                        row["id"],
                    )
                    continue
                code, message = error
                if code in _PERMANENT:
                    log.error("outbox row %s refused for good: %s", row["id"], message)
                    await connection.execute(
                        "update outbox set given_up_at = now(), attempts = attempts + 1,"
                        " last_error = $2 where id = $1",
                        row["id"],
                        message[:500],
                    )
                else:
                    await connection.execute(
                        "update outbox set attempts = attempts + 1, last_error = $2,"
                        " next_attempt_at = now() + make_interval(secs => $3) where id = $1",
                        row["id"],
                        message[:500],
                        backoff_seconds(row["attempts"], self._max_backoff),
                    )
        return delivered

    async def _send(self, row: asyncpg.Record) -> tuple[grpc.StatusCode | None, str] | None:
        try:
            method, request = build_request(row["kind"], row["idempotency_key"], row["payload"])
        except (KeyError, json_format.ParseError) as error:
            return grpc.StatusCode.INVALID_ARGUMENT, f"unreadable outbox row: {error}"
        try:
            await getattr(self._stub, method)(
                request, timeout=self._deadline, metadata=self._metadata()
            )
        except grpc.aio.AioRpcError as error:
            return error.code(), f"{error.code().name}: {error.details()}"
        return None

    async def run(self, poll_seconds: float) -> None:
        """Relay forever (a background task of the server)."""
        while True:
            try:
                delivered = await self.deliver_due()
            except (asyncpg.PostgresError, OSError) as error:
                log.warning("outbox relay: database error: %s", error)
                delivered = 0
            if delivered < self._batch_size:
                await asyncio.sleep(poll_seconds)
