"""OpenTelemetry setup: a tracer provider per process, OTLP export when configured.

With ``OTEL_EXPORTER_OTLP_ENDPOINT`` unset nothing is exported and the API's no-op
provider stays in place: spans cost next to nothing on the hot path, while W3C context
still propagates between services (a log line carries the trace id of an incoming
``traceparent``).
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

_configured = False


def configure_tracing(service: str, otlp_endpoint: str | None) -> None:
    """Install the global tracer provider once per process."""
    global _configured
    if _configured or not otlp_endpoint:
        return
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint)))
    trace.set_tracer_provider(provider)
    _instrument_asyncpg()
    _configured = True


def tracing_active() -> bool:
    """Whether spans are recorded in this process (an SDK provider is installed).

    Servers and channels add the OpenTelemetry interceptors only then: with the no-op
    provider they would cost about a quarter of a small call's throughput for nothing.
    """
    return isinstance(trace.get_tracer_provider(), TracerProvider)


def _instrument_asyncpg() -> None:
    # Database calls become child spans of the RPC that made them.
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor

    instrumentor = AsyncPGInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument()


def shutdown_tracing() -> None:
    """Flush pending spans (on graceful shutdown)."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.shutdown()
