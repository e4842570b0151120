"""Decide, from rendered NetworkPolicies, whether one pod may open a TCP connection to
another: the semantics of networking.k8s.io/v1 for pod and namespace selectors and
ports (ipBlock peers are not used by deploy/ and count as no match)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Endpoint:
    """A pod (labels, namespace and its namespace's labels), or an address outside the
    cluster (``external=True``)."""

    name: str
    labels: dict = field(default_factory=dict)
    namespace: str = ""
    namespace_labels: dict = field(default_factory=dict)
    external: bool = False


def _selects(selector: dict, labels: dict) -> bool:
    expressions = selector.get("matchExpressions", [])
    if expressions:
        raise NotImplementedError("matchExpressions are not used by deploy/")
    return all(labels.get(key) == value for key, value in selector.get("matchLabels", {}).items())


def _peer_matches(peer: dict, policy_namespace: str, other: Endpoint) -> bool:
    if other.external:
        return False  # only an ipBlock peer could match; deploy/ uses none
    if "namespaceSelector" in peer:
        namespace_ok = _selects(peer["namespaceSelector"], other.namespace_labels)
    else:
        namespace_ok = other.namespace == policy_namespace
    return namespace_ok and _selects(peer.get("podSelector", {}), other.labels)


def _rule_admits(
    rule: dict, peers_key: str, policy_namespace: str, other: Endpoint, port: int
) -> bool:
    ports = rule.get("ports")
    if ports and not any(
        p.get("protocol", "TCP") == "TCP" and p.get("port") == port for p in ports
    ):
        return False
    peers = rule.get(peers_key)
    if not peers:
        return True  # no peers listed: every source / destination
    return any(_peer_matches(peer, policy_namespace, other) for peer in peers)


def _direction_allows(
    policies: list[dict], direction: str, subject: Endpoint, other: Endpoint, port: int
) -> bool:
    rules_key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    governing = [
        policy
        for policy in policies
        if not subject.external
        and policy["metadata"].get("namespace", "default") == subject.namespace
        and direction in policy["spec"].get("policyTypes", ["Ingress"])
        and _selects(policy["spec"]["podSelector"], subject.labels)
    ]
    if not governing:
        return True  # no policy isolates the pod in this direction
    return any(
        _rule_admits(rule, peers_key, policy["metadata"].get("namespace", "default"), other, port)
        for policy in governing
        for rule in policy["spec"].get(rules_key) or []
    )


def allows(policies: list[dict], source: Endpoint, destination: Endpoint, port: int) -> bool:
    """True when ``source`` may connect to ``destination`` on TCP ``port``."""
    return _direction_allows(policies, "Egress", source, destination, port) and _direction_allows(
        policies, "Ingress", destination, source, port
    )
