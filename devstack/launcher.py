"""``make run``: one terminal, the whole platform, clean shutdown on Ctrl-C.

1. the database: ``DATABASE_URL``, or the embedded PostgreSQL in ``PGSERVER_DATA_DIR``;
2. migrations and demo data (``python -m servicekit.db.migrate --seed``);
3. the four services, each its own process (``python -m <service>``), each waited for
   until its gRPC health check answers SERVING;
4. the gateway (``python -m gateway``), waited for until ``/readyz`` answers 200.
Ctrl-C (or SIGTERM) stops them in reverse order, each given time to finish its calls.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

from servicekit.compiled import exit_if_stale
from servicekit.db.embedded import start_embedded
from servicekit.db.errors import EmbeddedDatabaseError
from servicekit.settings import ServiceSettings, load_settings

STARTUP_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class Component:
    name: str
    module: str
    address: str  # host:port of its gRPC server, or http URL of the gateway


def _components(settings: ServiceSettings) -> list[Component]:
    gateway_host = os.environ.get("GATEWAY_HOST", "127.0.0.1")
    gateway_port = os.environ.get("GATEWAY_PORT", "8080")
    return [
        Component("risk", "risk_service", settings.risk_address),
        Component("notification", "notification_service", settings.notification_address),
        Component("backtest", "backtest_service", settings.backtest_address),
        Component("executor", "executor_service", settings.executor_address),
        Component("gateway", "gateway", f"http://{gateway_host}:{gateway_port}"),
    ]


def _say(message: str) -> None:
    print(f"[devstack] {message}", file=sys.stderr, flush=True)


def _grpc_serving(address: str) -> bool:
    try:
        with grpc.insecure_channel(address) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=1.0
            )
        return reply.status == health_pb2.HealthCheckResponse.SERVING
    except grpc.RpcError:
        return False


def _http_ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def _wait_until_ready(component: Component, process: subprocess.Popen) -> None:
    ready = _http_ready if component.address.startswith("http") else _grpc_serving
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            code = process.returncode
            raise RuntimeError(f"{component.name} exited during start-up (code {code})")
        if ready(component.address):
            return
        time.sleep(0.3)
    raise RuntimeError(f"{component.name} not ready after {STARTUP_TIMEOUT_SECONDS:.0f}s")


def _migrate(env: dict[str, str]) -> None:
    _say("applying migrations and demo data")
    subprocess.run([sys.executable, "-m", "servicekit.db.migrate", "--seed"], env=env, check=True)


def _stop_all(processes: list[tuple[Component, subprocess.Popen]]) -> None:
    for component, process in reversed(processes):
        if process.poll() is None:
            _say(f"stopping {component.name}")
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    for _component, process in reversed(processes):
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()


def _banner(gateway_url: str) -> None:
    _say("the platform is up:")
    _say(f"  gateway      {gateway_url}   (OpenAPI docs: {gateway_url}/docs)")
    _say("  a token:     make token            (the demo user)")
    _say('  try:         curl -H "Authorization: Bearer $(make -s token)" \\')
    _say(f"                   {gateway_url}/v1/strategies")
    _say("  Ctrl-C stops everything")


def main() -> int:
    exit_if_stale("launcher")
    settings = load_settings(ServiceSettings)
    env = dict(os.environ)
    try:
        env["DATABASE_URL"] = settings.database_url or start_embedded(settings.pgserver_data_dir)
    except EmbeddedDatabaseError as error:
        _say(str(error))
        return 1
    stop_requested = False

    def request_stop(signum, frame):
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    processes: list[tuple[Component, subprocess.Popen]] = []
    try:
        _migrate(env)
        for component in _components(settings):
            _say(f"starting {component.name} ({component.address})")
            # Children ignore Ctrl-C from the terminal; the launcher stops them in order.
            process = subprocess.Popen(
                [sys.executable, "-m", component.module], env=env, start_new_session=True
            )
            processes.append((component, process))
            _wait_until_ready(component, process)
            if stop_requested:
                break
        else:
            _banner(processes[-1][0].address)
        while not stop_requested:
            for component, process in processes:
                if process.poll() is not None:
                    _say(f"{component.name} exited (code {process.returncode}); stopping")
                    return 1
            time.sleep(0.5)
        return 0
    except (RuntimeError, subprocess.CalledProcessError) as error:
        _say(f"start-up failed: {error}")
        return 1
    finally:
        _stop_all(processes)
