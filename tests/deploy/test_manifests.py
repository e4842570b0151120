"""Every overlay renders offline, validates against Kubernetes' schema, and is hardened."""

from __future__ import annotations

import copy

import pytest
from kubernetes_validate import utils as kubernetes_validate

from tests.deploy import checks, rendering
from tests.deploy.entry_points import MIGRATION_WORKLOAD, THIRD_PARTY_WORKLOADS, entry_points

KUBERNETES_VERSION = kubernetes_validate.latest_version()
SERVICE_OVERLAYS = ["dev", "prod"]
MIGRATION_OVERLAYS = ["dev/migrate", "prod/migrate"]


def _validate(obj: dict) -> str:
    """The Kubernetes version ``obj`` validated against (strict: unknown fields refused)."""
    return kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_overlays_when_listed_are_the_environments_and_their_migration_steps(rendered):
    assert sorted(rendered) == sorted(SERVICE_OVERLAYS + MIGRATION_OVERLAYS)
    assert all(rendered.values())


def test_kustomize_when_binary_missing_fails_naming_make_setup(tmp_path):
    with pytest.raises(rendering.KustomizeMissing, match="make setup"):
        rendering.kustomize_binary(tmp_path / "kustomize")


def test_objects_when_validated_strictly_match_kubernetes_schema(all_objects):
    failures = []
    for overlay, obj in all_objects:
        try:
            _validate(obj)
        except (
            kubernetes_validate.ValidationError,
            kubernetes_validate.SchemaNotFoundError,
        ) as error:
            failures.append(f"{overlay}: {obj['kind']}/{obj['metadata']['name']}: {error}")
    assert failures == []


def test_schema_validation_when_field_unknown_refuses_object(rendered):
    deployment = copy.deepcopy(rendering.named(rendered["prod"], "Deployment", "risk-service"))
    deployment["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        _validate(deployment)


@pytest.mark.parametrize(
    "check",
    [
        checks.probe_problems,
        checks.resource_problems,
        checks.security_problems,
        checks.secret_problems,
    ],
    ids=lambda check: check.__name__,
)
def test_rendered_objects_when_checked_have_no_problems(all_objects, check):
    problems = [f"{overlay}: {problem}" for overlay, obj in all_objects for problem in check([obj])]
    assert problems == []


def _mutated_risk_deployment(rendered, mutate) -> list[dict]:
    deployment = copy.deepcopy(rendering.named(rendered["prod"], "Deployment", "risk-service"))
    mutate(deployment["spec"]["template"]["spec"]["containers"][0])
    return [deployment]


@pytest.mark.parametrize(
    ("check", "mutate", "expected"),
    [
        (checks.probe_problems, lambda c: c.pop("readinessProbe"), "no readinessProbe"),
        (checks.probe_problems, lambda c: c.pop("livenessProbe"), "no livenessProbe"),
        (checks.resource_problems, lambda c: c["resources"].pop("limits"), "no cpu limits"),
        (
            checks.resource_problems,
            lambda c: c["resources"]["requests"].pop("memory"),
            "no memory requests",
        ),
        (
            checks.security_problems,
            lambda c: c["securityContext"].update(runAsNonRoot=False),
            "runAsNonRoot is not true",
        ),
        (
            checks.security_problems,
            lambda c: c["securityContext"].update(readOnlyRootFilesystem=False),
            "readOnlyRootFilesystem is not true",
        ),
        (
            checks.security_problems,
            lambda c: c["securityContext"].pop("allowPrivilegeEscalation"),
            "allowPrivilegeEscalation is not false",
        ),
        (
            checks.security_problems,
            lambda c: c["securityContext"]["capabilities"].update(drop=["NET_RAW"]),
            "does not drop ALL capabilities",
        ),
        (
            checks.secret_problems,
            lambda c: c["env"].append({"name": "JWT_SECRET", "value": "x"}),
            "JWT_SECRET not from a Secret",
        ),
    ],
)
def test_checks_when_container_weakened_report_it(rendered, check, mutate, expected):
    problems = check(_mutated_risk_deployment(rendered, mutate))
    assert any(expected in problem for problem in problems), problems


def test_secret_check_when_secret_carries_data_reports_it():
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "leak"},
        "stringData": {"url": "postgresql://u:p@h/db"},
    }
    assert checks.secret_problems([secret]) == ["Secret leak carries stringData"]


@pytest.fixture(scope="module")
def readme_entry_points() -> dict[str, list[str]]:
    return entry_points()


@pytest.mark.parametrize("overlay", SERVICE_OVERLAYS)
def test_services_when_rendered_run_the_readme_entry_points(rendered, overlay, readme_entry_points):
    commands = {
        deployment["metadata"]["name"]: deployment["spec"]["template"]["spec"]["containers"][0][
            "command"
        ]
        for deployment in rendering.of_kind(rendered[overlay], "Deployment")
        if deployment["metadata"]["name"] not in THIRD_PARTY_WORKLOADS
    }
    services = {k: v for k, v in readme_entry_points.items() if k != MIGRATION_WORKLOAD}
    assert commands == services


@pytest.mark.parametrize("overlay", MIGRATION_OVERLAYS)
def test_migration_when_rendered_runs_the_migration_runner_as_a_job(
    rendered, overlay, readme_entry_points
):
    jobs = {
        job["metadata"]["name"]: job["spec"]["template"]["spec"]["containers"][0]["command"]
        for job in rendering.of_kind(rendered[overlay], "Job")
    }
    assert jobs == {MIGRATION_WORKLOAD: readme_entry_points[MIGRATION_WORKLOAD]}
    assert rendering.of_kind(rendered[overlay], "Deployment") == []


@pytest.mark.parametrize("overlay", SERVICE_OVERLAYS + MIGRATION_OVERLAYS)
def test_images_when_rendered_are_tagged_and_share_one_repository(rendered, overlay):
    environment = overlay.split("/")[0]
    images = {
        pod.name: container["image"]
        for pod in rendering.pod_templates(rendered[overlay])
        for container in pod.containers()
        if pod.name not in THIRD_PARTY_WORKLOADS
    }
    repositories = {image.rsplit(":", 1)[0] for image in images.values()}
    tags = {image.rsplit(":", 1)[-1] for image in images.values() if ":" in image}
    assert all(":" in image for image in images.values()), images
    assert len(repositories) == 1, images
    assert "latest" not in tags
    if environment == "prod":
        assert all(image.startswith("ghcr.io/") for image in images.values()), images


def test_secrets_when_referenced_are_named_in_the_operations_guide(rendered):
    guide = (rendering.REPO_ROOT / "docs" / "operations.md").read_text()
    referenced = set().union(*(checks.secret_references(objs) for objs in rendered.values()))
    assert referenced, "the manifests reference no Secret at all"
    assert sorted(name for name in referenced if f"`{name}`" not in guide) == []


def test_objects_when_rendered_carry_the_labels_deploy_apply_selects_on(all_objects):
    # deploy/apply.sh applies with a label selector: an unlabelled object would be skipped.
    unlabelled = [
        f"{overlay}: {obj['kind']}/{obj['metadata']['name']}"
        for overlay, obj in all_objects
        if obj["metadata"].get("labels", {}).get("app.kubernetes.io/part-of") != "trading-platform"
    ]
    assert unlabelled == []
    for overlay, obj in all_objects:
        name = obj["metadata"]["name"]
        owner = obj["metadata"].get("labels", {}).get("app.kubernetes.io/name")
        if owner is not None:
            assert name == owner or name.startswith(f"{owner}-"), (overlay, obj["kind"], name)
