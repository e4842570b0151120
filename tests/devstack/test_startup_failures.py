"""Bad configuration stops a service with one clear line on stderr, not a traceback."""

import os
import socket
import subprocess
import sys

import pytest

SERVICES = ["risk_service", "backtest_service", "notification_service", "executor_service"]


def _start(module: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "LOG_LEVEL": "WARNING", **env}
    return subprocess.run(
        [sys.executable, "-m", module],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _one_line(completed: subprocess.CompletedProcess) -> str:
    lines = [line for line in completed.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, completed.stderr[-3000:]
    assert "Traceback" not in completed.stderr
    return lines[0]


@pytest.mark.parametrize("module", SERVICES)
def test_service_when_jwt_secret_malformed_exits_with_one_line(module):
    completed = _start(module, JWT_SECRET="too-short")
    assert completed.returncode != 0
    assert "JWT_SECRET" in _one_line(completed)


@pytest.mark.parametrize("module", SERVICES)
def test_service_when_port_in_use_exits_with_one_line(module, database):
    prefix = module.removesuffix("_service").upper()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        completed = _start(module, DATABASE_URL=database.admin_dsn, **{f"{prefix}_PORT": str(port)})
    assert completed.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in _one_line(completed)


def test_service_when_database_unreachable_exits_with_one_line():
    completed = _start(
        "notification_service", DATABASE_URL="postgresql://nobody@127.0.0.1:1/nowhere"
    )
    assert completed.returncode != 0
    assert "cannot connect to the database" in _one_line(completed)
