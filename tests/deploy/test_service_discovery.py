"""Services find each other through configured addresses that balance over replicas."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import yaml

from tests.deploy import rendering
from tests.deploy.entry_points import GRPC_SERVICES, PORTS, SINGLETONS

SERVICE_OVERLAYS = ["dev", "prod"]
# Settings variable prefix of each service (servicekit.settings: <PREFIX>HOST, PORT...).
PREFIXES = {
    "risk-service": "RISK_",
    "backtest-service": "BACKTEST_",
    "notification-service": "NOTIFICATION_",
    "executor-service": "EXECUTOR_",
    "gateway": "GATEWAY_",
}


def _cluster_dns_target(address: str) -> tuple[str, str, int]:
    """(service, namespace, port) of ``dns:///<service>.<namespace>.svc.cluster.local:<port>``."""
    assert address.startswith("dns:///"), f"{address}: not a dns:/// target (no round robin)"
    host, port = address.removeprefix("dns:///").rsplit(":", 1)
    service, namespace, *rest = host.split(".")
    assert rest == ["svc", "cluster", "local"], address
    return service, namespace, int(port)


def _selects(selector: dict, labels: dict) -> bool:
    return bool(selector) and all(labels.get(key) == value for key, value in selector.items())


@pytest.mark.parametrize("overlay", SERVICE_OVERLAYS)
def test_addresses_when_configured_resolve_to_headless_services_of_each_replica(rendered, overlay):
    objects = rendered[overlay]
    config = rendering.config_map_data(objects, "trading-platform")
    pods = {pod.name: pod for pod in rendering.pod_templates(objects)}
    for service in GRPC_SERVICES:
        variable = PREFIXES[service].removesuffix("_") + "_ADDRESS"
        name, namespace, port = _cluster_dns_target(config[variable])
        target = rendering.named(objects, "Service", name)
        assert target["metadata"]["namespace"] == namespace, variable
        assert target["spec"]["clusterIP"] == "None", f"{name} is not headless"
        assert [p["port"] for p in target["spec"]["ports"]] == [port] == [PORTS[service]]
        assert _selects(target["spec"]["selector"], pods[service].labels), name


@pytest.mark.parametrize("overlay", SERVICE_OVERLAYS)
def test_services_when_started_listen_on_all_interfaces_at_the_probed_port(rendered, overlay):
    objects = rendered[overlay]
    pods = {pod.name: pod for pod in rendering.pod_templates(objects)}
    for service, prefix in PREFIXES.items():
        settings = rendering.config_map_data(objects, service)
        assert settings[f"{prefix}HOST"] == "0.0.0.0"
        assert int(settings[f"{prefix}PORT"]) == PORTS[service]
        container = pods[service].spec["containers"][0]
        assert [p["containerPort"] for p in container["ports"]] == [PORTS[service]]
        probes = [container[name] for name in ("livenessProbe", "readinessProbe")]
        if service in GRPC_SERVICES:
            assert [probe["grpc"]["port"] for probe in probes] == [PORTS[service]] * 2
        else:
            assert [probe["httpGet"]["path"] for probe in probes] == ["/healthz", "/readyz"]


@pytest.mark.parametrize("overlay", SERVICE_OVERLAYS)
def test_services_when_deployed_scale_on_their_own_except_the_bot_runner(rendered, overlay):
    objects = rendered[overlay]
    autoscaled = {
        hpa["spec"]["scaleTargetRef"]["name"]
        for hpa in rendering.of_kind(objects, "HorizontalPodAutoscaler")
    }
    pods = {pod.name: pod for pod in rendering.pod_templates(objects)}
    for service in PORTS:
        budgets = [
            pdb
            for pdb in rendering.of_kind(objects, "PodDisruptionBudget")
            if _selects(pdb["spec"]["selector"]["matchLabels"], pods[service].labels)
        ]
        assert len(budgets) == 1, f"{service}: {len(budgets)} PodDisruptionBudgets"
        deployment = rendering.named(objects, "Deployment", service)
        if service in SINGLETONS:
            assert service not in autoscaled
            assert deployment["spec"]["replicas"] == 1
            assert deployment["spec"]["strategy"]["type"] == "Recreate"
        else:
            assert service in autoscaled
            assert "replicas" not in deployment["spec"], f"{service}: fights its autoscaler"


def test_tracing_when_enabled_exports_to_the_collector_service(rendered):
    objects = rendered["prod"]
    endpoint = urlsplit(
        rendering.config_map_data(objects, "trading-platform")["OTEL_EXPORTER_OTLP_ENDPOINT"]
    )
    service_name, namespace = endpoint.hostname.split(".")[:2]
    collector = rendering.named(objects, "Service", service_name)
    assert collector["metadata"]["namespace"] == namespace
    assert endpoint.port in [p["port"] for p in collector["spec"]["ports"]]
    assert endpoint.scheme == "http"  # in-cluster, plaintext: the exporter must not use TLS


def test_tracing_when_disabled_exports_nothing(rendered):
    config = rendering.config_map_data(rendered["dev"], "trading-platform")
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in config


def test_collector_config_when_loaded_wires_every_pipeline_to_defined_components(rendered):
    objects = rendered["prod"]
    config = yaml.safe_load(rendering.config_map_data(objects, "otel-collector")["collector.yaml"])
    service = config["service"]
    for pipeline in service["pipelines"].values():
        for section in ("receivers", "processors", "exporters"):
            assert set(pipeline[section]) <= set(config[section]), (section, pipeline)
        assert pipeline["processors"][0] == "memory_limiter"
    assert set(service["extensions"]) <= set(config["extensions"])
    grpc_port = int(config["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"].rsplit(":")[-1])
    health_port = int(config["extensions"]["health_check"]["endpoint"].rsplit(":")[-1])
    container = rendering.named(objects, "Deployment", "otel-collector")["spec"]["template"][
        "spec"
    ]["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports["otlp-grpc"] == grpc_port
    assert ports["health"] == health_port
    assert container["readinessProbe"]["httpGet"]["port"] == "health"
