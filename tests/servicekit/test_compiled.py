"""Compiled modules: an extension older than a source of its group never runs unnoticed."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from servicekit import compiled

GROUP = ("pkg.rules", "pkg.model")


def _write(path: Path, mtime_ns: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# a file\n")
    os.utime(path, ns=(mtime_ns, mtime_ns))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """Two sources, written at t=1s, and their extensions, compiled at t=2s."""
    for module in GROUP:
        _write(compiled.source_of(module, tmp_path), 1_000_000_000)
        _write(compiled.extension_of(module, tmp_path), 2_000_000_000)
    return tmp_path


def test_extension_path_when_built_is_beside_the_source_with_the_interpreter_suffix():
    extension = compiled.extension_of("risk_service.engine")
    assert extension.parent == compiled.ROOT / "risk_service"
    assert extension.name.startswith("engine.cpython-")
    assert extension.suffix == ".so"


def test_edited_sources_when_extensions_newer_than_every_source_is_empty(root):
    assert compiled.edited_sources(GROUP, root) == []
    assert compiled.staleness(GROUP, root) is None
    assert compiled.compiled_modules(GROUP, root) == list(GROUP)


def test_edited_sources_when_one_source_edited_after_compiling_names_it(root):
    os.utime(compiled.source_of("pkg.model", root), ns=(3_000_000_000, 3_000_000_000))
    assert compiled.edited_sources(GROUP, root) == ["pkg/model.py"]
    problem = compiled.staleness(GROUP, root)
    assert problem is not None
    assert problem.startswith("pkg/model.py changed after the modules were compiled")
    assert "make setup" in problem


def test_edited_sources_when_one_extension_is_older_counts_from_the_oldest(root):
    # The group compiles as one unit: an extension left from an earlier compile (rules',
    # at t=1.5s) was typed against the sources of then, so a source written after it
    # (model's, at t=1.7s) outdates it even though model's own extension is newer.
    os.utime(compiled.extension_of("pkg.rules", root), ns=(1_500_000_000, 1_500_000_000))
    os.utime(compiled.source_of("pkg.model", root), ns=(1_700_000_000, 1_700_000_000))
    assert compiled.edited_sources(GROUP, root) == ["pkg/model.py"]


def test_edited_sources_when_no_extension_exists_is_empty_and_the_sources_run(root):
    for module in GROUP:
        compiled.extension_of(module, root).unlink()
    os.utime(compiled.source_of("pkg.model", root), ns=(3_000_000_000, 3_000_000_000))
    assert compiled.edited_sources(GROUP, root) == []
    assert compiled.compiled_modules(GROUP, root) == []


def test_exit_if_stale_when_stale_prints_one_line_naming_the_program_and_exits_1(root, capsys):
    os.utime(compiled.source_of("pkg.rules", root), ns=(3_000_000_000, 3_000_000_000))
    with pytest.raises(SystemExit) as stopped:
        compiled.exit_if_stale("risk", GROUP, root)
    assert stopped.value.code == 1
    error = capsys.readouterr().err
    assert error.startswith("risk: pkg/rules.py changed after the modules were compiled")
    assert error.count("\n") == 1


def test_exit_if_stale_when_current_returns(root):
    compiled.exit_if_stale("risk", GROUP, root)


def test_compiled_group_when_listed_names_modules_that_exist():
    for module in compiled.COMPILED_MODULES:
        assert compiled.source_of(module).is_file(), module


def test_main_when_no_c_compiler_leaves_the_sources_to_run_and_says_so(monkeypatch, capsys):
    monkeypatch.setattr(compiled, "compiled_modules", lambda: [])
    monkeypatch.setattr(compiled, "c_compiler", lambda: None)
    removed, compiles = [], []
    monkeypatch.setattr(compiled, "remove_extensions", lambda: removed.append(True))
    monkeypatch.setattr(compiled, "compile_modules", lambda: compiles.append(True))
    assert compiled.main([]) == 0
    assert removed == [True]
    assert compiles == []
    assert "no C compiler found" in capsys.readouterr().out


def test_main_when_every_extension_is_current_compiles_nothing(monkeypatch):
    monkeypatch.setattr(compiled, "compiled_modules", lambda: list(compiled.COMPILED_MODULES))
    monkeypatch.setattr(compiled, "edited_sources", lambda: [])
    monkeypatch.setattr(compiled, "compile_modules", lambda: pytest.fail("compiled again"))
    assert compiled.main([]) == 0


def test_c_compiler_when_named_with_flags_finds_the_program(monkeypatch):
    # Python records its compiler with flags, e.g. "gcc -pthread".
    monkeypatch.setattr(compiled.sysconfig, "get_config_var", lambda name: "sh -pthread")
    assert compiled.c_compiler() == shutil.which("sh")


def test_c_compiler_when_not_installed_is_none(monkeypatch):
    monkeypatch.setattr(compiled.sysconfig, "get_config_var", lambda name: "no-such-cc -O2")
    assert compiled.c_compiler() is None
