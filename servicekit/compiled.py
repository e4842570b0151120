"""The modules compiled to C with mypyc, and whether the compiled copies are current.

ValidateTrade's pure path (parsing the request, the rules, the decision, the reply) runs
on the risk service's event loop thread, and that thread's CPU is what bounds the
service's throughput. Compiled by mypyc from the same typed source, the path costs about
11% fewer instructions per call (docs/risk.md, "Compiled hot path").

An extension module (``engine.cpython-311-x86_64-linux-gnu.so``) sits beside its source,
and Python imports it in preference to the ``.py``. A source edited after compiling would
therefore not be the code that runs: ``staleness()`` finds that case and every entry
point (services, gateway, launcher, tests, benchmarks) refuses to start on it. With no
extensions at all the sources run as plain Python: slower, the same answers.

``python -m servicekit.compiled`` (run by ``make setup``) compiles the modules when an
extension is missing or older than a source; ``--remove`` deletes the extensions. On a
machine without a C compiler it says so and leaves the sources to run as plain Python.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What this interpreter's extension modules end with, e.g. ".cpython-311-x86_64-linux-gnu.so".
EXTENSION_SUFFIX: str = sysconfig.get_config_var("EXT_SUFFIX")

# Everything ValidateTrade runs between the protobuf request and the protobuf reply,
# except I/O. The async modules (service, validator, ledger, cache) were measured
# compiled too and saved nothing: their time is in grpc.aio, asyncpg and the loop.
COMPILED_MODULES = (
    "servicekit.ids",
    "servicekit.money",
    "risk_service.context",
    "risk_service.engine",
    "risk_service.instruments",
    "risk_service.kill_switch",
    "risk_service.limits",
    "risk_service.model",
    "risk_service.rules",
    "risk_service.validation",
    "risk_service.wire",
)


def source_of(module: str, root: Path = ROOT) -> Path:
    return root.joinpath(*module.split(".")).with_suffix(".py")


def extension_of(module: str, root: Path = ROOT) -> Path:
    *package, name = module.split(".")
    return root.joinpath(*package, name + EXTENSION_SUFFIX)


def edited_sources(modules: tuple[str, ...] = COMPILED_MODULES, root: Path = ROOT) -> list[str]:
    """The sources edited after the oldest extension of the group was compiled.

    mypyc compiles the group as one unit (calls between its modules are direct C calls
    typed by each other's signatures), so an edit to any source outdates every extension."""
    extensions = [extension_of(module, root) for module in modules]
    compiled_at = [path.stat().st_mtime_ns for path in extensions if path.exists()]
    if not compiled_at:
        return []
    oldest = min(compiled_at)
    sources = [source_of(module, root) for module in modules]
    return [str(path.relative_to(root)) for path in sources if path.stat().st_mtime_ns > oldest]


def compiled_modules(modules: tuple[str, ...] = COMPILED_MODULES, root: Path = ROOT) -> list[str]:
    """The modules that have an extension (current or not)."""
    return [module for module in modules if extension_of(module, root).exists()]


def staleness(modules: tuple[str, ...] = COMPILED_MODULES, root: Path = ROOT) -> str | None:
    """Why the compiled modules must not run (an extension would shadow a newer source),
    or None when they may."""
    edited = edited_sources(modules, root)
    if not edited:
        return None
    return (
        f"{', '.join(edited)} changed after the modules were compiled with mypyc, so the "
        "compiled copies would run instead. Run `make setup` to compile them again (or "
        "`python -m servicekit.compiled --remove` to run the sources as plain Python)."
    )


def exit_if_stale(
    program: str, modules: tuple[str, ...] = COMPILED_MODULES, root: Path = ROOT
) -> None:
    """For entry points: one clear line and exit status 1, rather than run outdated code."""
    problem = staleness(modules, root)
    if problem:
        print(f"{program}: {problem}", file=sys.stderr)
        sys.exit(1)


def c_compiler() -> str | None:
    """The C compiler Python's build tools would call, if it is installed."""
    command = shlex.split(sysconfig.get_config_var("CC") or "cc")
    return shutil.which(command[0]) if command else None


def compile_modules() -> None:
    """Compile every module of the group with mypyc, in place, beside its source."""
    paths = [str(source_of(module).relative_to(ROOT)) for module in COMPILED_MODULES]
    started = time.perf_counter()
    # mypyc prints every compiler command; shown only when it fails.
    run = subprocess.run(
        [sys.executable, "-m", "mypyc", *paths],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode != 0:
        sys.stderr.write(run.stdout + run.stderr)
        raise SystemExit(f"mypyc failed (exit {run.returncode})")
    # mypyc rewrites only what changed: a module whose compiled form is unchanged (an
    # edited comment, say) keeps its old file and date. All were checked against the
    # sources just now, so all are dated now.
    for module in COMPILED_MODULES:
        extension_of(module).touch()
    elapsed = time.perf_counter() - started
    print(f"compiled {len(paths)} modules with mypyc in {elapsed:.0f}s")


def remove_extensions() -> None:
    for module in COMPILED_MODULES:
        extension_of(module).unlink(missing_ok=True)
    # mypyc's runtime shared by the group, named after a hash of the group.
    for shared in ROOT.glob("*__mypyc" + EXTENSION_SUFFIX):
        shared.unlink()


def main(argv: list[str]) -> int:
    if argv == ["--remove"]:
        remove_extensions()
        return 0
    if argv:
        print("usage: python -m servicekit.compiled [--remove]", file=sys.stderr)
        return 2
    if len(compiled_modules()) == len(COMPILED_MODULES) and not edited_sources():
        return 0
    if c_compiler() is None:
        # Everything works without: the sources run as plain Python, only slower.
        remove_extensions()
        print(
            "no C compiler found: the risk hot path runs as plain Python (slower). "
            "Install one (e.g. gcc) and run `make setup` again to compile it."
        )
        return 0
    compile_modules()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
