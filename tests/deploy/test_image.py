"""The image: built in stages from the lock file, stubs generated, run as a non-root user,
with every package the entry points need in its build context."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.deploy import dockerfile, rendering
from tests.deploy.entry_points import THIRD_PARTY_WORKLOADS, entry_points, module_of

REPO = rendering.REPO_ROOT
# Top-level packages that never ship: tests, benchmarks, the laptop launcher, and the
# generated stubs (regenerated inside the image).
NOT_SHIPPED = {"tests", "bench", "devstack", "trading"}
BUILD_TOOLS = ("apt-get", "build-essential", "gcc", " install ", "mypy")


@pytest.fixture(scope="module")
def image():
    return dockerfile.parse(REPO / "deploy" / "Dockerfile")


@pytest.fixture(scope="module")
def ignore_patterns() -> str:
    return (REPO / ".dockerignore").read_text()


def arg_default(stage: dockerfile.Stage, name: str) -> str:
    return dockerfile.arg_defaults(stage)[name]


def test_dockerfile_when_parsed_builds_in_a_builder_and_runs_in_a_slim_final_stage(image):
    global_args, stages = image
    assert len(stages) >= 2
    builder, final = stages[0], stages[-1]
    assert dockerfile.substitute(final.base, global_args).endswith("-slim-bookworm")
    assert final.base == builder.base  # the venv's interpreter is the same in both
    copies = final.arguments("COPY")
    assert f"--from={builder.name} /opt/venv /opt/venv" in copies
    assert f"--from={builder.name} /app /app" in copies


def test_final_stage_when_read_carries_no_build_tool(image):
    _, stages = image
    final_runs = " ".join(stages[-1].arguments("RUN"))
    assert [tool for tool in BUILD_TOOLS if tool in final_runs] == []


def test_builder_when_read_installs_the_lock_file_and_generates_the_stubs(image):
    _, stages = image
    builder = stages[0]
    runs = builder.arguments("RUN")
    assert arg_default(builder, "REQUIREMENTS") == "requirements-runtime.lock"
    # pip takes --python before its subcommand only (it refuses the other order).
    install = "pip --python /opt/venv/bin/python install --no-deps -r /tmp/requirements.lock"
    assert any(install in run for run in runs)
    assert "${REQUIREMENTS} /tmp/requirements.lock" in builder.arguments("COPY")
    protoc = "-m grpc_tools.protoc -Iprotos --python_out=. --grpc_python_out=."
    assert any(protoc in run and "$(find protos -name '*.proto')" in run for run in runs)
    assert builder.arguments("WORKDIR") == ["/app"]  # the stubs land in /app/trading


def test_builder_when_read_compiles_the_hot_path_with_tools_the_image_leaves_behind(image):
    _, stages = image
    builder, final = stages[0], stages[-1]
    runs = builder.arguments("RUN")
    assert any("/opt/compiler/bin/python -m servicekit.compiled" in run for run in runs)
    assert any("--mypy_out=." in run for run in runs)  # mypyc reads types from the stubs
    assert not any("/opt/compiler" in copy for copy in final.arguments("COPY"))


def test_image_when_run_uses_the_uid_the_pods_require(image, rendered):
    _, stages = image
    final = stages[-1]
    defaults = dockerfile.arg_defaults(final)
    user = dockerfile.substitute(final.arguments("USER")[-1], defaults)
    uid, gid = (int(part) for part in user.split(":"))
    assert uid != 0 and gid != 0
    for objects in rendered.values():
        for pod in rendering.pod_templates(objects):
            if pod.name not in THIRD_PARTY_WORKLOADS:
                assert pod.spec["securityContext"]["runAsUser"] == uid, pod.name
                assert pod.spec["securityContext"]["runAsGroup"] == gid, pod.name


def test_dockerignore_when_applied_admits_every_shipped_package_and_nothing_else(
    ignore_patterns,
):
    packages = {
        path.name
        for path in REPO.iterdir()
        if path.is_dir() and ((path / "__init__.py").exists() or (path / "__main__.py").exists())
    }
    shipped = packages - NOT_SHIPPED
    assert {"servicekit", "gateway"} <= shipped
    refused = sorted(
        name for name in shipped if not dockerfile.dockerignore_admits(ignore_patterns, name)
    )
    assert refused == [], "add these packages to .dockerignore's allowlist"
    for name in ("protos", "supabase", "requirements-runtime.lock"):
        assert dockerfile.dockerignore_admits(ignore_patterns, name), name
    for name in (".venv", ".git", "node_modules", ".data", ".env", "tests", "trading", "deploy"):
        assert not dockerfile.dockerignore_admits(ignore_patterns, name), name


def test_entry_points_when_resolved_are_modules_inside_the_build_context(ignore_patterns):
    for workload, command in entry_points().items():
        module = module_of(command)
        path = REPO.joinpath(*module.split("."))
        assert (path / "__main__.py").exists() or path.with_suffix(".py").exists(), workload
        assert dockerfile.dockerignore_admits(ignore_patterns, module.split(".")[0]), workload


def test_dockerignore_when_pattern_negated_later_admits_again():
    patterns = "*\n!keep/\n# comment\n"
    assert dockerfile.dockerignore_admits(patterns, "keep")
    assert not dockerfile.dockerignore_admits(patterns, "other")


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        name, separator, version = line.partition("==")
        if separator and not line.startswith((" ", "#")):
            pins[name.strip().lower()] = version.strip()
    return pins


def test_runtime_lock_when_compared_with_dev_lock_pins_the_same_versions():
    root = Path(__file__).resolve().parents[2]
    runtime = _pins(root / "requirements-runtime.lock")
    full = _pins(root / "requirements.lock")
    assert runtime, "requirements-runtime.lock pins nothing"
    different = {
        name: (version, full.get(name))
        for name, version in runtime.items()
        if full.get(name) != version
    }
    assert not different, f"the image would run other versions than the tests: {different}"
