"""Policy checks over rendered objects: each returns the problems it finds (empty = fine).

Kept apart from the tests so the tests can also prove each check catches a bad object.
"""

from __future__ import annotations

from tests.deploy.rendering import LONG_RUNNING_KINDS, PodTemplate, pod_templates

# Environment variables that carry credentials: only ever from a Secret.
SECRET_ENV_SUFFIXES = ("DATABASE_URL", "JWT_SECRET", "CREDENTIALS_KEY")


def probe_problems(objects: list[dict]) -> list[str]:
    """Long-running containers without a liveness or readiness probe."""
    problems = []
    for pod in pod_templates(objects):
        if pod.kind not in LONG_RUNNING_KINDS:
            continue  # a Job's pod runs to completion: nothing routes traffic to it
        for container in pod.containers():
            for probe in ("livenessProbe", "readinessProbe"):
                if not container.get(probe):
                    problems.append(f"{pod.name}/{container['name']}: no {probe}")
    return problems


def resource_problems(objects: list[dict]) -> list[str]:
    """Containers without cpu and memory requests and limits."""
    problems = []
    for pod in pod_templates(objects):
        for container in pod.containers():
            resources = container.get("resources", {})
            for bound in ("requests", "limits"):
                for resource in ("cpu", "memory"):
                    if resource not in resources.get(bound, {}):
                        problems.append(f"{pod.name}/{container['name']}: no {resource} {bound}")
    return problems


def security_problems(objects: list[dict]) -> list[str]:
    """Containers that may run as root, write their root filesystem, escalate or keep
    capabilities; pods without the RuntimeDefault seccomp profile."""
    problems = []
    for pod in pod_templates(objects):
        problems += _pod_security_problems(pod)
        for container in pod.containers():
            problems += [
                f"{pod.name}/{container['name']}: {problem}"
                for problem in _container_security_problems(pod, container)
            ]
    return problems


def _pod_security_problems(pod: PodTemplate) -> list[str]:
    problems = []
    seccomp = pod.spec.get("securityContext", {}).get("seccompProfile", {})
    if seccomp.get("type") != "RuntimeDefault":
        problems.append(f"{pod.name}: seccompProfile is not RuntimeDefault")
    if pod.spec.get("automountServiceAccountToken") is not False:
        problems.append(f"{pod.name}: mounts a service account token")
    return problems


def _container_security_problems(pod: PodTemplate, container: dict) -> list[str]:
    context = container.get("securityContext", {})
    pod_context = pod.spec.get("securityContext", {})
    problems = []
    if context.get("runAsNonRoot", pod_context.get("runAsNonRoot")) is not True:
        problems.append("runAsNonRoot is not true")
    if context.get("runAsUser", pod_context.get("runAsUser")) == 0:
        problems.append("runs as uid 0")
    if context.get("readOnlyRootFilesystem") is not True:
        problems.append("readOnlyRootFilesystem is not true")
    if context.get("allowPrivilegeEscalation") is not False:
        problems.append("allowPrivilegeEscalation is not false")
    if context.get("privileged"):
        problems.append("is privileged")
    if "ALL" not in context.get("capabilities", {}).get("drop", []):
        problems.append("does not drop ALL capabilities")
    if context.get("capabilities", {}).get("add"):
        problems.append("adds capabilities")
    return problems


def secret_problems(objects: list[dict]) -> list[str]:
    """Secrets carrying values, and credentials set anywhere but from a Secret."""
    problems = [
        f"Secret {obj['metadata']['name']} carries {field}"
        for obj in objects
        if obj["kind"] == "Secret"
        for field in ("data", "stringData")
        if obj.get(field)
    ]
    for obj in objects:
        if obj["kind"] != "ConfigMap":
            continue
        problems += [
            f"ConfigMap {obj['metadata']['name']} holds {key}"
            for key in obj.get("data", {})
            if key.endswith(SECRET_ENV_SUFFIXES)
        ]
    for pod in pod_templates(objects):
        for container in pod.containers():
            for entry in container.get("env", []):
                from_secret = "secretKeyRef" in entry.get("valueFrom", {})
                if entry["name"].endswith(SECRET_ENV_SUFFIXES) and not from_secret:
                    problems.append(
                        f"{pod.name}/{container['name']}: {entry['name']} not from a Secret"
                    )
    return problems


def secret_references(objects: list[dict]) -> set[str]:
    """Names of every Secret the objects refer to (env, envFrom, volumes, Ingress TLS)."""
    names = set()
    for pod in pod_templates(objects):
        for container in pod.containers():
            for entry in container.get("env", []):
                ref = entry.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    names.add(ref["name"])
            for source in container.get("envFrom", []):
                if "secretRef" in source:
                    names.add(source["secretRef"]["name"])
        for volume in pod.spec.get("volumes", []):
            if "secret" in volume:
                names.add(volume["secret"]["secretName"])
    for obj in objects:
        if obj["kind"] == "Ingress":
            names.update(tls["secretName"] for tls in obj["spec"].get("tls", []))
    return names
