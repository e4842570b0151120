"""The gateway app in-process over ASGI, for tests that need no running service."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi import FastAPI

from gateway.app import create_app
from gateway.config import GatewaySettings
from tests.testkit.services import TEST_JWT_SECRET

# Nothing listens on port 9 (discard): the services are "down".
NOWHERE = "127.0.0.1:9"


def gateway_settings(**overrides: Any) -> GatewaySettings:
    values: dict[str, Any] = {
        "jwt_secret": TEST_JWT_SECRET,
        "risk_address": NOWHERE,
        "backtest_address": NOWHERE,
        "notification_address": NOWHERE,
        "executor_address": NOWHERE,
        "call_deadline_seconds": 0.5,
        "readiness_timeout_seconds": 0.5,
        "readiness_checks_database": False,
        **overrides,
    }
    return GatewaySettings(**values)


@contextlib.asynccontextmanager
async def asgi_client(
    app: FastAPI | None = None, **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of ``app`` (default: the gateway with every service down), lifespan run."""
    app = app or create_app(gateway_settings(**overrides))
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client,
    ):
        yield client
