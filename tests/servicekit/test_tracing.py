"""Traces continue across services: a client span is the parent of the server's span."""

import uuid

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from servicekit.clients import connect
from servicekit.server import running_service
from servicekit.settings import ServiceSettings
from tests.servicekit.test_server import SERVICE, _builder
from tests.testkit.services import settings_for, user_metadata


def _recording_exporter() -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


async def test_call_when_made_inside_a_span_server_span_joins_the_trace(database):
    exporter = _recording_exporter()
    settings = settings_for(ServiceSettings, database)
    async with running_service(
        settings, name="probe", role="risk_service", build=_builder()
    ) as app:
        channel = connect(f"127.0.0.1:{app.port}")
        with trace.get_tracer("test").start_as_current_span("gateway-request") as root:
            await channel.unary_unary(f"/{SERVICE}/WhoAmI")(
                b"", metadata=user_metadata(uuid.uuid4()), timeout=5
            )
        await channel.close()
    trace_id = root.get_span_context().trace_id
    server_spans = [
        span
        for span in exporter.get_finished_spans()
        if span.kind == trace.SpanKind.SERVER and span.name.endswith("WhoAmI")
    ]
    assert server_spans, [span.name for span in exporter.get_finished_spans()]
    assert server_spans[0].context.trace_id == trace_id
