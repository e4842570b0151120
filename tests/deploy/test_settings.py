"""The environment the manifests give each container is one its settings class accepts.

Each service's settings are loaded in a fresh interpreter whose environment is exactly
the container's (ConfigMaps resolved, Secrets replaced by stand-in values), so a wrong
name or an invalid value in deploy/ fails here, not at 3 a.m. in a crash loop.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.deploy import rendering
from tests.deploy.entry_points import PORTS

SETTINGS_CLASSES = {
    "risk-service": "risk_service.config:RiskSettings",
    "backtest-service": "backtest_service.config:BacktestSettings",
    "notification-service": "notification_service.config:NotificationSettings",
    "executor-service": "executor_service.config:ExecutorSettings",
    "gateway": "gateway.config:GatewaySettings",
}
STAND_IN_SECRET = "stand-in-secret-value-longer-than-32-characters"
_LOAD = """
import importlib, json, sys
module, name = sys.argv[1].split(":")
settings = getattr(importlib.import_module(module), name)()
print(json.dumps(settings.model_dump(mode="json")))
"""


def settings_prefix(workload: str) -> str:
    """``RISK_`` for risk-service, ``GATEWAY_`` for gateway."""
    return workload.removesuffix("-service").upper() + "_"


def _secret_value(reference: dict) -> str:
    if reference["key"] == "url":
        return f"postgresql://{reference['name']}:pw@db.example.invalid:5432/postgres"
    return STAND_IN_SECRET


def container_environment(objects: list[dict], container: dict) -> dict[str, str]:
    """The variables Kubernetes would set in ``container`` (Secrets as stand-ins)."""
    environment: dict[str, str] = {}
    config_maps = {obj["metadata"]["name"]: obj for obj in rendering.of_kind(objects, "ConfigMap")}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            environment.update(config_maps[source["configMapRef"]["name"]].get("data", {}))
        # Optional secretRefs (extra settings) are absent by default.
    for entry in container.get("env", []):
        value_from = entry.get("valueFrom", {})
        if "value" in entry:
            value = re.sub(
                r"\$\((\w+)\)", lambda m: environment.get(m.group(1), ""), entry["value"]
            )
        elif "secretKeyRef" in value_from:
            if value_from["secretKeyRef"].get("optional"):
                continue
            value = _secret_value(value_from["secretKeyRef"])
        elif "configMapKeyRef" in value_from:
            ref = value_from["configMapKeyRef"]
            value = config_maps[ref["name"]]["data"][ref["key"]]
        else:
            value = "stand-in-field"
        environment[entry["name"]] = value
    return environment


def _load_settings(settings_class: str, environment: dict[str, str]) -> dict:
    result = _run_loader(settings_class, environment)
    assert result.returncode == 0, f"{settings_class} refused the environment:\n{result.stderr}"
    return json.loads(result.stdout)


def _run_loader(settings_class: str, environment: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", _LOAD, settings_class],
        env={**environment, "PATH": "/usr/bin:/bin"},
        cwd=rendering.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("overlay", ["dev", "prod"])
@pytest.mark.parametrize("workload", sorted(SETTINGS_CLASSES))
def test_settings_when_loaded_from_the_container_environment_accept_it(rendered, overlay, workload):
    objects = rendered[overlay]
    deployment = rendering.named(objects, "Deployment", workload)
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    environment = container_environment(objects, container)
    settings = _load_settings(SETTINGS_CLASSES[workload], environment)
    assert settings["host"] == "0.0.0.0"
    assert settings["port"] == PORTS[workload]
    assert settings["app_env"] == overlay
    # The service's own role only: no admin connection string in a service's pod.
    assert "DATABASE_URL" not in environment
    own_url = environment[f"{settings_prefix(workload)}DATABASE_URL"]
    assert settings["service_database_url"] == own_url
    assert settings["database_url"] in (None, own_url)
    assert settings["risk_address"].startswith("dns:///")
    if overlay == "prod":
        assert settings["otel_exporter_otlp_endpoint"].startswith("http://otel-collector.")
    if workload == "executor-service":
        assert settings["credentials_key"] == STAND_IN_SECRET


def test_settings_when_environment_value_invalid_refuse_to_load(rendered):
    objects = rendered["prod"]
    container = rendering.named(objects, "Deployment", "risk-service")["spec"]["template"]["spec"][
        "containers"
    ][0]
    environment = {**container_environment(objects, container), "APP_ENV": "production"}
    result = _run_loader(SETTINGS_CLASSES["risk-service"], environment)
    assert result.returncode != 0
    assert "APP_ENV" in result.stderr
