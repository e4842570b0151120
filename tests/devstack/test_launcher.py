"""`make run` as a newcomer sees it: everything up, ready, and stopped cleanly on Ctrl-C."""

import os
import signal
import socket
import subprocess
import sys
import time

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

SERVICES = {
    "RISK": "trading.risk.v1.RiskService",
    "BACKTEST": "trading.backtest.v1.BacktestService",
    "NOTIFICATION": "trading.notification.v1.NotificationService",
    "EXECUTOR": "trading.executor.v1.ExecutorService",
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _listed_services(address: str) -> set[str]:
    with grpc.insecure_channel(address) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        reply = next(iter(stub.ServerReflectionInfo(iter([request]), timeout=5)))
    return {service.name for service in reply.list_services_response.service}


def _health(address: str) -> int:
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        return stub.Check(health_pb2.HealthCheckRequest(), timeout=5).status


@pytest.mark.slow
def test_launcher_when_started_is_ready_within_60s_and_stops_on_ctrl_c(tmp_path):
    env = {**os.environ, "PGSERVER_DATA_DIR": str(tmp_path / "pg"), "LOG_LEVEL": "WARNING"}
    env.pop("DATABASE_URL", None)
    addresses = {}
    for prefix in SERVICES:
        port = _free_port()
        env[f"{prefix}_PORT"] = str(port)
        env[f"{prefix}_ADDRESS"] = addresses[prefix] = f"127.0.0.1:{port}"
    gateway_port = _free_port()
    env["GATEWAY_PORT"] = str(gateway_port)
    errors = (tmp_path / "stderr.log").open("w+")
    launcher = subprocess.Popen(
        [sys.executable, "-m", "devstack"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=errors,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        ready = False
        while time.monotonic() < deadline and launcher.poll() is None:
            try:
                ready = (
                    httpx.get(f"http://127.0.0.1:{gateway_port}/readyz", timeout=2).status_code
                    == 200
                )
            except httpx.HTTPError:
                ready = False
            if ready:
                break
            time.sleep(0.5)
        assert ready, "gateway /readyz did not answer 200 within 60 s"
        for prefix, service in SERVICES.items():
            assert _health(addresses[prefix]) == health_pb2.HealthCheckResponse.SERVING
            assert service in _listed_services(addresses[prefix])
    finally:
        launcher.send_signal(signal.SIGINT)
        try:
            code = launcher.wait(timeout=30)
        except subprocess.TimeoutExpired:
            launcher.kill()
            raise
    errors.seek(0)
    assert code == 0, errors.read()[-2000:]
