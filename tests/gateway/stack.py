"""The whole platform in this process: four services and the gateway, on a test database.

Everything runs in one background thread with its own event loop (services, their
workers and bot runners, uvicorn serving the gateway on 127.0.0.1:0), so tests of any
kind — async tests, and the synchronous ones schemathesis generates — talk to it over
real HTTP while it keeps running. ``run(coroutine)`` executes a coroutine in the stack's
loop (for direct gRPC calls to a service).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import threading
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from gateway.app import create_app
from gateway.config import GatewaySettings
from servicekit.server import ServiceApp
from tests.testkit.services import settings_for, start_service


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    role: str
    settings: str  # "module:Class"
    build: str  # "module:function"
    overrides: dict[str, Any] = field(default_factory=dict)


# Started in this order: each one's peers are already listening.
SERVICES = (
    ServiceSpec(
        "risk", "risk_service", "risk_service.config:RiskSettings", "risk_service.server:build"
    ),
    ServiceSpec(
        "notification",
        "notification_service",
        "notification_service.config:NotificationSettings",
        "notification_service.server:build",
        {"stream_heartbeat_seconds": 1.0},
    ),
    ServiceSpec(
        "backtest",
        "backtest_service",
        "backtest_service.config:BacktestSettings",
        "backtest_service.server:build",
        {"worker_poll_interval_seconds": 0.1, "watch_poll_interval_seconds": 0.5},
    ),
    ServiceSpec(
        "executor",
        "executor_service",
        "executor_service.config:ExecutorSettings",
        "executor_service.server:build",
        {
            # Bars every 0.1 s so a bot trades within a test's patience.
            "max_bar_wait_seconds": 0.1,
            "runner_poll_seconds": 0.2,
            "outbox_poll_seconds": 0.1,
            "performance_refresh_seconds": 0.3,
            "credentials_key": "x1dA3bWZr6cJv1xY8mK2Qh3b7cV5nL0pR9sT4uW6yZ0=",
        },
    ),
)
# A port nothing listens on: a missing service answers UNAVAILABLE, as in production.
_NOWHERE = "127.0.0.1:9"


def _load(reference: str) -> Any:
    module, _, name = reference.partition(":")
    return getattr(importlib.import_module(module), name)


class GatewayStack:
    """Start with ``start()``, stop with ``stop()``; ``base_url`` is the gateway's."""

    def __init__(self, database, **gateway_overrides: Any):
        self.database = database
        self.gateway_overrides = gateway_overrides
        self.services: dict[str, ServiceApp] = {}
        self.missing: dict[str, str] = {}  # service -> why it is not running
        self.base_url = ""
        self.loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._thread_main, name="stack", daemon=True)

    def start(self, timeout: float = 90.0) -> GatewayStack:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("the stack did not start in time")
        if self._failure is not None:
            raise RuntimeError(f"the stack failed to start: {self._failure!r}") from self._failure
        return self

    def stop(self, timeout: float = 30.0) -> None:
        if self.loop is not None and self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout)

    def run(self, coroutine: Coroutine, timeout: float = 30.0) -> Any:
        """Run ``coroutine`` in the stack's loop and return its result."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def address(self, service: str) -> str:
        app = self.services.get(service)
        return f"127.0.0.1:{app.port}" if app else _NOWHERE

    def _thread_main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:  # reported to start()
            self._failure = error
            self._ready.set()

    async def _serve(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with contextlib.AsyncExitStack() as exit_stack:
            for spec in SERVICES:
                await self._start_service(spec, exit_stack)
            settings = settings_for(
                GatewaySettings, self.database, **self._addresses(), **self.gateway_overrides
            )
            config = uvicorn.Config(
                create_app(settings),  # type: ignore[arg-type]
                host="127.0.0.1",
                port=0,
                log_level="warning",
                lifespan="on",
            )
            server = uvicorn.Server(config)
            serving = asyncio.create_task(server.serve())
            while not server.started:
                if serving.done():
                    serving.result()
                await asyncio.sleep(0.02)
            port = server.servers[0].sockets[0].getsockname()[1]
            self.base_url = f"http://127.0.0.1:{port}"
            self._ready.set()
            await self._stop.wait()
            server.should_exit = True
            await serving

    def _addresses(self) -> dict[str, str]:
        names = ("risk", "notification", "backtest", "executor")
        return {f"{name}_address": self.address(name) for name in names}

    async def _start_service(self, spec: ServiceSpec, exit_stack: contextlib.AsyncExitStack):
        # A service that cannot start yet (still being written) is reported, not fatal:
        # the tests that need it fail and say so.
        try:
            settings_class = _load(spec.settings)
            build = _load(spec.build)
            app = await exit_stack.enter_async_context(
                start_service(
                    settings_class,
                    self.database,
                    name=spec.name,
                    role=spec.role,
                    build=build,
                    **self._addresses(),
                    **spec.overrides,
                )
            )
        except Exception as error:
            self.missing[spec.name] = f"{type(error).__name__}: {error}"
            return
        self.services[spec.name] = app
