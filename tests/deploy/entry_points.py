"""How each piece starts, read from the README: the image runs those same commands.

The README's table "What `make run` starts" gives the command that starts each piece
alone; every workload in deploy/ must run exactly that command (the migration Job
without the local-only ``--seed``: demo data never reaches a real database).
"""

from __future__ import annotations

import re

from tests.deploy.rendering import REPO_ROOT

README = REPO_ROOT / "README.md"
# Workload name in the manifests, by the module its command runs.
WORKLOADS = {
    "risk_service": "risk-service",
    "backtest_service": "backtest-service",
    "notification_service": "notification-service",
    "executor_service": "executor-service",
    "gateway": "gateway",
    "servicekit.db.migrate": "db-migrate",
}
MIGRATION_WORKLOAD = "db-migrate"
LOCAL_ONLY_FLAGS = {"--seed"}

# Serving port of each service (gRPC, and the gateway's HTTP).
PORTS = {
    "risk-service": 50051,
    "backtest-service": 50052,
    "notification-service": 50053,
    "executor-service": 50054,
    "gateway": 8080,
}
GRPC_SERVICES = set(PORTS) - {"gateway"}

# Services that run one replica on purpose (see deploy/base/executor/kustomization.yaml).
SINGLETONS = {"executor-service"}
# Workloads that run someone else's image (the tracing component's collector).
THIRD_PARTY_WORKLOADS = {"otel-collector"}

_COMMAND_CELL = re.compile(r"^\|[^|]*\|\s*`(python -m [^`]+)`\s*\|", re.MULTILINE)


def readme_commands(text: str) -> dict[str, list[str]]:
    """Workload name -> command, from the README table's ``python -m`` cells."""
    commands = {}
    for match in _COMMAND_CELL.finditer(text):
        command = match.group(1).split()
        workload = WORKLOADS.get(command[2])
        if workload is not None:
            commands[workload] = [part for part in command if part not in LOCAL_ONLY_FLAGS]
    return commands


def entry_points() -> dict[str, list[str]]:
    """Every workload's command as the README gives it (AssertionError if one is missing)."""
    commands = readme_commands(README.read_text())
    missing = sorted(set(WORKLOADS.values()) - set(commands))
    assert not missing, f"README.md gives no `python -m` command for {missing}"
    return commands


def module_of(command: list[str]) -> str:
    """The module a ``python -m <module>`` command runs."""
    assert command[:2] == ["python", "-m"], command
    return command[2]
