"""What every request gets: a request id, CORS when configured, a trace that continues
into the services, and event streams that refuse before they start."""

from __future__ import annotations

import asyncio
import uuid

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.gateway.asgi_app import asgi_client
from tests.gateway.sse_client import read_events
from tests.testkit.services import service_metadata
from trading.notification.v1 import notification_service_pb2 as npb
from trading.notification.v1 import notification_service_pb2_grpc as npb_grpc


async def test_request_when_no_request_id_gets_a_fresh_one_back(anonymous):
    first = await anonymous.get("/healthz")
    second = await anonymous.get("/healthz")
    assert len(first.headers["x-request-id"]) == 32
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_request_when_request_id_given_echoes_it_in_header_and_error_body(anonymous):
    response = await anonymous.get("/v1/profile", headers={"X-Request-ID": "abc-123.x"})
    assert response.headers["x-request-id"] == "abc-123.x"
    assert response.json()["error"]["request_id"] == "abc-123.x"


async def test_request_when_request_id_is_unsafe_replaces_it(anonymous):
    response = await anonymous.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert response.headers["x-request-id"] != "bad id\twith spaces"
    assert len(response.headers["x-request-id"]) == 32


async def test_cors_when_origin_is_allowed_answers_preflight_and_exposes_headers():
    async with asgi_client(cors_origins=["https://app.example.test"]) as client:
        preflight = await client.options(
            "/v1/strategies",
            headers={
                "Origin": "https://app.example.test",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )
        simple = await client.get("/healthz", headers={"Origin": "https://app.example.test"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://app.example.test"
    assert simple.headers["access-control-allow-origin"] == "https://app.example.test"
    assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()


async def test_cors_when_origin_is_not_allowed_gets_no_cors_headers():
    async with asgi_client(cors_origins=["https://app.example.test"]) as client:
        response = await client.get("/healthz", headers={"Origin": "https://evil.example.test"})
    assert "access-control-allow-origin" not in response.headers


def _recording_tracer_provider() -> TracerProvider:
    """The process's SDK provider, installed here when none is (no OTLP endpoint in tests:
    servicekit leaves the API's no-op provider, whose tracers then delegate to this one)."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        trace.set_tracer_provider(TracerProvider())
        provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider), "another provider was installed"
    return provider


async def test_trace_when_browser_sends_traceparent_continues_into_the_service(new_user):
    provider = _recording_tracer_provider()
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    alice = await new_user()
    trace_id = uuid.uuid4().hex
    traceparent = f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01"
    response = await alice.client.get(
        "/v1/notifications/unread-count", headers={"traceparent": traceparent}
    )
    assert response.status_code == 200

    def spans_of_this_trace():
        return [
            s for s in exporter.get_finished_spans() if f"{s.context.trace_id:032x}" == trace_id
        ]

    def found(kind: trace.SpanKind, name_part: str) -> bool:
        return any(s.kind == kind and name_part in s.name for s in spans_of_this_trace())

    expected = [
        (trace.SpanKind.SERVER, "unread-count"),  # the gateway's request
        (trace.SpanKind.CLIENT, "GetUnreadCount"),  # its call to the service
        (trace.SpanKind.SERVER, "GetUnreadCount"),  # the service handling it
    ]
    async with asyncio.timeout(10):
        # Spans end asynchronously, some after the response reached us.
        while True:
            if all(found(kind, name) for kind, name in expected):
                break
            await asyncio.sleep(0.05)
    exporter.shutdown()


async def test_backtest_events_when_backtest_unknown_is_404_not_a_stream(new_user):
    alice = await new_user()
    response = await alice.client.get(f"/v1/backtests/{uuid.uuid4()}/events")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")


async def test_notification_events_when_a_notification_is_stored_streams_it(new_user, stack):
    alice = await new_user()

    async def notify() -> str:
        import grpc

        async with grpc.aio.insecure_channel(stack.address("notification")) as channel:
            reply = await npb_grpc.NotificationServiceStub(channel).Notify(
                npb.NotifyRequest(
                    user_id=str(alice.id),
                    idempotency_key=f"sse-{uuid.uuid4()}",
                    type=npb.NOTIFICATION_TYPE_SYSTEM,
                    title="Hello over SSE",
                ),
                metadata=service_metadata(),
                timeout=5,
            )
            return reply.notification.id

    async with (
        asyncio.timeout(30),
        alice.client.stream("GET", "/v1/notifications/events") as response,
    ):
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        events = read_events(response)
        ready = await anext(events)
        assert ready.name == "ready"
        assert ready.json() == {"unread_count": 0}
        notification_id = stack.run(notify())
        async for event in events:
            if event.name == "notification":
                break
    assert event.id == notification_id
    assert event.json()["title"] == "Hello over SSE"
    assert event.json()["user_id"] == str(alice.id)
