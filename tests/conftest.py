"""Fixtures for the whole suite live in tests/testkit (one embedded PostgreSQL per run)."""

pytest_plugins = ["tests.testkit.database", "tests.testkit.services_fixtures"]
