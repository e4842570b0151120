"""Only the expected callers reach each service; every pod reaches what it depends on."""

from __future__ import annotations

import pytest

from tests.deploy import rendering
from tests.deploy.entry_points import PORTS
from tests.deploy.network_policy import Endpoint, allows

# Who calls whom (the design's flows); everything else must be refused.
CALLERS = {
    "risk-service": {"executor-service", "backtest-service", "gateway"},
    "notification-service": {"executor-service", "backtest-service", "gateway"},
    "backtest-service": {"gateway"},
    "executor-service": {"gateway"},
    "gateway": set(),  # from the ingress controller only
}
NAMESPACE = "trading"
INGRESS_CONTROLLER = Endpoint(
    "ingress-nginx",
    labels={"app.kubernetes.io/name": "ingress-nginx"},
    namespace="ingress-nginx",
    namespace_labels={"kubernetes.io/metadata.name": "ingress-nginx"},
)
EXTERNAL = Endpoint("outside the cluster", external=True)


def _pods(objects: list[dict]) -> dict[str, Endpoint]:
    namespaces = {ns["metadata"]["name"]: ns for ns in rendering.of_kind(objects, "Namespace")}
    pods = {}
    for pod in rendering.pod_templates(objects):
        namespace_labels = {
            "kubernetes.io/metadata.name": pod.namespace,
            **namespaces.get(pod.namespace, {}).get("metadata", {}).get("labels", {}),
        }
        pods[pod.name] = Endpoint(pod.name, pod.labels, pod.namespace, namespace_labels)
    return pods


def _stranger(pods: dict[str, Endpoint]) -> Endpoint:
    """A pod in the platform's namespace that is none of the platform's workloads."""
    some_pod = next(iter(pods.values()))
    return Endpoint("stranger", {"app": "stranger"}, some_pod.namespace, some_pod.namespace_labels)


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_services_when_called_admit_exactly_the_expected_callers(rendered, overlay):
    objects = rendered[overlay]
    policies = rendering.of_kind(objects, "NetworkPolicy")
    pods = _pods(objects)
    callers = {**pods, "stranger": _stranger(pods), "ingress-nginx": INGRESS_CONTROLLER}
    admitted = {
        service: {
            name
            for name, caller in callers.items()
            if name != service and allows(policies, caller, pods[service], port)
        }
        for service, port in PORTS.items()
    }
    expected = {**CALLERS, "gateway": {"ingress-nginx"}}
    assert admitted == expected


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_services_when_reaching_outside_get_dns_postgres_otlp_and_https_only(rendered, overlay):
    objects = rendered[overlay]
    policies = rendering.of_kind(objects, "NetworkPolicy")
    pods = _pods(objects)
    for service in PORTS:
        for port in (53, 5432, 6543, 4317, 443):
            assert allows(policies, pods[service], EXTERNAL, port), (service, port)
        for port in (22, 80, 3306, 6379):
            assert not allows(policies, pods[service], EXTERNAL, port), (service, port)
    # Email leaves from notification alone.
    assert allows(policies, pods["notification-service"], EXTERNAL, 587)
    assert not allows(policies, pods["executor-service"], EXTERNAL, 587)


def test_collector_when_tracing_enabled_takes_otlp_from_platform_pods_only(rendered):
    objects = rendered["prod"]
    policies = rendering.of_kind(objects, "NetworkPolicy")
    pods = _pods(objects)
    collector = pods["otel-collector"]
    for service in PORTS:
        assert allows(policies, pods[service], collector, 4317)
    assert not allows(policies, _stranger(pods), collector, 4317)
    assert not allows(policies, pods["risk-service"], collector, 13133)


def test_migration_when_running_accepts_no_connection(rendered):
    objects = rendered["prod/migrate"]
    policies = rendering.of_kind(objects, "NetworkPolicy")
    job = _pods(objects)["db-migrate"]
    assert not allows(policies, _stranger({"db-migrate": job}), job, 8080)
    assert allows(policies, job, EXTERNAL, 5432)


def test_evaluator_when_no_policy_selects_a_pod_allows_everything():
    pod = Endpoint("a", {"app": "a"}, NAMESPACE)
    other = Endpoint("b", {"app": "b"}, NAMESPACE)
    assert allows([], pod, other, 1234)
    deny_all = {
        "metadata": {"name": "deny", "namespace": NAMESPACE},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
    }
    assert not allows([deny_all], pod, other, 1234)
