"""One way to run a gRPC service: database, guarded handlers, health, reflection, shutdown.

A service package provides ``async def build(app: ServiceApp)`` that registers its
servicer on ``app.server`` and names its services with ``app.add_service_name``; this
module does the rest the same way for every service:

- connects the service's own database role (bounded retries, then one clear line);
- every handler registered on ``app.server`` guarded (servicekit.guard): caller
  authentication, error mapping, access logs; OpenTelemetry server spans when tracing;
- grpc.health.v1 (NOT_SERVING until the database answers, and again whenever it
  stops answering) and server reflection;
- graceful shutdown on SIGTERM/SIGINT: health goes NOT_SERVING, in-flight calls get
  ``shutdown_grace_seconds`` to finish, background tasks are cancelled, the pool closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

import asyncpg
import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from opentelemetry.instrumentation.grpc import aio_server_interceptor
from opentelemetry.instrumentation.grpc.filters import negate, service_prefix

from servicekit import auth
from servicekit.compiled import exit_if_stale
from servicekit.db.dsn import service_dsn
from servicekit.db.embedded import start_embedded
from servicekit.db.errors import EmbeddedDatabaseError
from servicekit.db.pool import create_pool
from servicekit.guard import CallGuard, GuardedServer
from servicekit.heap import startup_heap_frozen
from servicekit.logs import configure_logging
from servicekit.settings import ServiceSettings
from servicekit.telemetry import configure_tracing, shutdown_tracing, tracing_active

log = logging.getLogger("servicekit.server")

DATABASE_PROBE_INTERVAL_SECONDS = 5.0
DATABASE_CONNECT_ATTEMPTS = 5

Build = Callable[["ServiceApp"], Awaitable[None]]


class StartupError(Exception):
    """Start-up cannot go on; the message is one line saying what is wrong."""


class ServiceApp:
    """A running service: its server, its database pool and its background work."""

    def __init__(self, settings: ServiceSettings, *, name: str, role: str):
        self.settings = settings
        self.name = name
        self.role = role
        interceptors: list[grpc.aio.ServerInterceptor] = []
        if tracing_active():
            # A server span around the guarded handler, so it covers authentication and
            # error mapping too. Only then: interceptors run on every call.
            interceptors.append(aio_server_interceptor(filter_=negate(service_prefix("grpc."))))
        self._grpc_server: grpc.aio.Server = grpc.aio.server(
            interceptors=interceptors,
            options=[
                # Without this a second server silently shares a port already in use.
                ("grpc.so_reuseport", 0),
                ("grpc.keepalive_permit_without_calls", 1),
                # Clients re-resolve DNS when a connection ages out, so new replicas get
                # traffic after a scale-up (round-robin over headless Services).
                ("grpc.max_connection_age_ms", 300_000),
                ("grpc.max_connection_age_grace_ms", 30_000),
                ("grpc.http2.min_recv_ping_interval_without_data_ms", 10_000),
            ],
        )
        # Services register here: every handler is authenticated, error-mapped and logged.
        self.server = GuardedServer(
            self._grpc_server,
            CallGuard(
                auth.TokenVerifier(
                    settings.jwt_secret, settings.jwt_audience, settings.jwt_jwks_url
                )
            ),
        )
        self.health = health.aio.HealthServicer()
        self.pool: asyncpg.Pool
        self.port = 0
        self._service_names: list[str] = []
        self._background: list[Callable[[], Coroutine[Any, Any, None]]] = []
        self._tasks: list[asyncio.Task] = []
        self._shutdown_callbacks: list[Callable[[], Awaitable[None]]] = []
        self._stopping = False

    def add_service_name(self, full_name: str) -> None:
        """Declare a service for health checking and reflection."""
        self._service_names.append(full_name)

    def add_background(self, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run ``work()`` once the server is up; it is cancelled on shutdown."""
        self._background.append(work)

    def on_shutdown(self, callback: Callable[[], Awaitable[None]]) -> None:
        """Run ``callback()`` after in-flight calls finished, before the pool closes."""
        self._shutdown_callbacks.append(callback)

    async def start(self, build: Build) -> None:
        """Connect, build, bind and serve; raises StartupError with a clear message."""
        self.pool = await self._connect_database()
        await build(self)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self._grpc_server)
        reflection.enable_server_reflection(
            [*self._service_names, health.SERVICE_NAME, reflection.SERVICE_NAME],
            self._grpc_server,
        )
        address = f"{self.settings.host}:{self.settings.port}"
        if not _port_is_free(self.settings.host, self.settings.port):
            await self.pool.close()
            raise StartupError(f"cannot listen on {address}: the address is in use")
        try:
            self.port = self._grpc_server.add_insecure_port(address)
        except RuntimeError:
            self.port = 0
        if not self.port:
            await self.pool.close()
            raise StartupError(f"cannot listen on {address}: the address is in use or invalid")
        await self._grpc_server.start()
        await self._set_serving(await self._database_answers())
        self._tasks.append(asyncio.create_task(self._watch_database(), name="database-probe"))
        for work in self._background:
            self._tasks.append(asyncio.create_task(work(), name=getattr(work, "__name__", "bg")))
        log.info("%s listening on %s:%d", self.name, self.settings.host, self.port)

    async def stop(self, grace: float | None = None) -> None:
        """Graceful shutdown: stop taking calls, finish in-flight ones, release resources."""
        if self._stopping:
            return
        self._stopping = True
        grace = self.settings.shutdown_grace_seconds if grace is None else grace
        await self.health.enter_graceful_shutdown()
        await self._grpc_server.stop(grace)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for callback in reversed(self._shutdown_callbacks):
            try:
                await callback()
            except Exception:
                log.exception("shutdown callback failed")
        await self.pool.close()
        log.info("%s stopped", self.name)

    async def _connect_database(self) -> asyncpg.Pool:
        dsn = self.settings.service_database_url
        if not dsn:
            # Only without a URL of its own does a service derive one (locally: from the
            # embedded server), so a pod never tries to start a database.
            admin_url = self.settings.database_url or start_embedded(
                self.settings.pgserver_data_dir
            )
            dsn = service_dsn(admin_url, self.role)
        last_error: Exception | None = None
        for attempt in range(DATABASE_CONNECT_ATTEMPTS):
            try:
                return await create_pool(
                    dsn,
                    min_size=self.settings.db_pool_min_size,
                    max_size=self.settings.db_pool_max_size,
                )
            except Exception as error:
                last_error = error
                await asyncio.sleep(min(0.2 * 2**attempt, 2.0))
        raise StartupError(str(last_error))

    async def _database_answers(self) -> bool:
        try:
            async with asyncio.timeout(2.0):
                await self.pool.fetchval("select 1")
            return True
        except Exception as error:
            log.warning("database probe failed: %s", error)
            return False

    async def _set_serving(self, serving: bool) -> None:
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if serving
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for name in ["", *self._service_names]:
            await self.health.set(name, status)

    async def _watch_database(self) -> None:
        while True:
            await asyncio.sleep(DATABASE_PROBE_INTERVAL_SECONDS)
            await self._set_serving(await self._database_answers())


def _port_is_free(host: str, port: int) -> bool:
    """Ask the OS before gRPC does: gRPC's own refusal is a multi-line C-core log."""
    if port == 0:
        return True
    try:
        with socket.create_server((host, port)):
            return True
    except OSError:
        return False


@contextlib.asynccontextmanager
async def running_service(
    settings: ServiceSettings, *, name: str, role: str, build: Build
) -> AsyncIterator[ServiceApp]:
    """Start a service in this event loop (tests, benchmarks) and stop it afterwards."""
    configure_tracing(name, settings.otel_exporter_otlp_endpoint)
    app = ServiceApp(settings, name=name, role=role)
    await app.start(build)
    try:
        yield app
    finally:
        await app.stop(grace=1.0)


async def _serve_until_signalled(settings: ServiceSettings, name: str, role: str, build: Build):
    app = ServiceApp(settings, name=name, role=role)
    await app.start(build)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        with startup_heap_frozen():
            await stop.wait()
        log.info("%s shutting down (grace %.1fs)", name, settings.shutdown_grace_seconds)
        await app.stop()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)


def run_service(settings: ServiceSettings, *, name: str, role: str, build: Build) -> None:
    """Entry point of ``python -m <service>``: serve until SIGTERM/SIGINT."""
    exit_if_stale(name)
    configure_logging(name, settings.log_level)
    configure_tracing(name, settings.otel_exporter_otlp_endpoint)
    try:
        asyncio.run(_serve_until_signalled(settings, name, role, build))
    except (StartupError, EmbeddedDatabaseError) as error:
        print(f"{name}: {error}", file=sys.stderr)
        sys.exit(1)
    finally:
        shutdown_tracing()
