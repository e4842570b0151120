"""Fixtures for the whole suite live in tests/testkit (one embedded PostgreSQL per run)."""

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

pytest_plugins = ["tests.testkit.database", "tests.testkit.services_fixtures"]


def pytest_configure(config):
    # Tests run with spans recorded, as a deployment with an OTLP endpoint does, so the
    # tracing interceptors are exercised; tests that check traces add an in-memory exporter.
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(TracerProvider())
