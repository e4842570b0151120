"""Fixtures for the whole suite live in tests/testkit (one embedded PostgreSQL per run)."""

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from servicekit.compiled import COMPILED_MODULES, compiled_modules, staleness

pytest_plugins = ["tests.testkit.database", "tests.testkit.services_fixtures"]


def pytest_configure(config):
    # An extension compiled before a source was edited would be what the tests import.
    problem = staleness()
    if problem:
        pytest.exit(problem, returncode=pytest.ExitCode.USAGE_ERROR)
    # Tests run with spans recorded, as a deployment with an OTLP endpoint does, so the
    # tracing interceptors are exercised; tests that check traces add an in-memory exporter.
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(TracerProvider())


def pytest_report_header(config):
    return f"compiled with mypyc: {len(compiled_modules())} of {len(COMPILED_MODULES)} modules"
