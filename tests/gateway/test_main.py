"""``python -m gateway``: bad configuration stops start-up with one clear line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys


def _start(**env: str) -> subprocess.CompletedProcess:
    environment = {"PATH": os.environ.get("PATH", ""), **env}
    return subprocess.run(
        [sys.executable, "-m", "gateway"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_start_when_port_in_use_exits_with_one_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _start(GATEWAY_PORT=str(port))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"gateway: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]


def test_start_when_jwt_secret_too_short_exits_with_one_line():
    result = _start(JWT_SECRET="short")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("invalid configuration: JWT_SECRET")


def test_start_when_a_rate_is_not_a_number_exits_naming_the_variable():
    result = _start(GATEWAY_BACKTEST_RATE_PER_MINUTE="lots")
    assert result.returncode == 2
    assert "GATEWAY_BACKTEST_RATE_PER_MINUTE" in result.stderr
    assert "Traceback" not in result.stderr
