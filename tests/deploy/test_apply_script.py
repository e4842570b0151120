"""deploy/apply.sh: migrations complete before any service is applied, or nothing is.

A stand-in kubectl on PATH records every call; `wait` succeeds or fails on demand.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.deploy.rendering import DEPLOY_DIR

SCRIPT = DEPLOY_DIR / "apply.sh"
FAKE_KUBECTL = """#!/usr/bin/env bash
echo "$*" >> "$KUBECTL_LOG"
case "$1" in
  wait) exit "${FAKE_WAIT_RC:-0}" ;;
  get) echo deployment.apps/risk-service; echo deployment.apps/gateway ;;
esac
"""


def _run(tmp_path: Path, *arguments: str, wait_rc: int = 0) -> tuple[int, list[str]]:
    kubectl = tmp_path / "kubectl"
    kubectl.write_text(FAKE_KUBECTL)
    kubectl.chmod(0o755)
    log = tmp_path / "calls.log"
    environment = {
        **os.environ,
        "KUBECTL": str(kubectl),
        "KUBECTL_LOG": str(log),
        "FAKE_WAIT_RC": str(wait_rc),
    }
    result = subprocess.run(
        ["bash", str(SCRIPT), *arguments],
        env=environment,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    calls = log.read_text().splitlines() if log.exists() else []
    return result.returncode, calls


def _verbs(calls: list[str]) -> list[str]:
    return [" ".join(call.split()[:2]) for call in calls]


def test_apply_when_migration_completes_applies_services_after_it(tmp_path):
    code, calls = _run(tmp_path, "prod")
    assert code == 0
    assert _verbs(calls) == [
        "delete job",
        "apply --kustomize",
        "wait job/db-migrate",
        "apply --kustomize",
        "get deployments",
        "rollout status",
        "rollout status",
    ]
    assert calls[1].endswith("/overlays/prod/migrate")
    assert "--for=condition=complete" in calls[2]
    assert "/overlays/prod --selector app.kubernetes.io/part-of=trading-platform" in calls[3]


def test_apply_when_migration_fails_applies_no_service(tmp_path):
    code, calls = _run(tmp_path, "prod", wait_rc=1)
    assert code == 1
    applied = [call for call in calls if call.startswith("apply")]
    assert len(applied) == 1 and applied[0].endswith("/overlays/prod/migrate")
    assert calls[-1].startswith("logs job/db-migrate")


def test_apply_when_one_service_named_selects_only_its_objects(tmp_path):
    code, calls = _run(tmp_path, "dev", "risk-service")
    assert code == 0
    services_apply = [call for call in calls if call.startswith("apply")][1]
    assert services_apply.endswith("/overlays/dev --selector app.kubernetes.io/name=risk-service")
    assert "--selector app.kubernetes.io/name=risk-service" in _get_call(calls)


def _get_call(calls: list[str]) -> str:
    return next(call for call in calls if call.startswith("get deployments"))


@pytest.mark.parametrize("arguments", [(), ("staging",), ("prod", "risk-service", "extra")])
def test_apply_when_overlay_unknown_or_arguments_wrong_exits_with_usage(tmp_path, arguments):
    code, calls = _run(tmp_path, *arguments)
    assert code == 2
    assert calls == []
