"""The one list of how each piece starts: the README's commands, the image's commands.

Each workload in deploy/ runs exactly the command the README gives for starting that
piece alone, so what the tests and a laptop run is what runs in the cluster.
"""

from __future__ import annotations

# Workload name in the manifests -> its command.
SERVICES = {
    "risk-service": ["python", "-m", "risk_service"],
    "backtest-service": ["python", "-m", "backtest_service"],
    "notification-service": ["python", "-m", "notification_service"],
    "executor-service": ["python", "-m", "executor_service"],
    "gateway": ["python", "-m", "gateway"],
}
MIGRATION = {"db-migrate": ["python", "-m", "servicekit.db.migrate"]}
ENTRY_POINTS = {**SERVICES, **MIGRATION}

# Workloads that run someone else's image (the tracing component's collector).
THIRD_PARTY_WORKLOADS = {"otel-collector"}

# Serving port of each service (gRPC, and the gateway's HTTP).
PORTS = {
    "risk-service": 50051,
    "backtest-service": 50052,
    "notification-service": 50053,
    "executor-service": 50054,
    "gateway": 8080,
}
GRPC_SERVICES = {name for name in SERVICES if name != "gateway"}

# Services that run one replica on purpose (see deploy/base/executor/kustomization.yaml).
SINGLETONS = {"executor-service"}


def module_of(command: list[str]) -> str:
    """The module a ``python -m <module>`` command runs."""
    assert command[:2] == ["python", "-m"], command
    return command[2]
