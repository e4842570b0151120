"""Read deploy/Dockerfile into stages and .dockerignore into an admission rule."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Stage:
    """One ``FROM`` stage: its base, name and instructions (continuations joined)."""

    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def arguments(self, keyword: str) -> list[str]:
        """The arguments of every instruction ``keyword`` (e.g. ``RUN``) in this stage."""
        return [args for key, args in self.instructions if key == keyword]


def _logical_lines(text: str) -> list[str]:
    lines, current = [], ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        lines.append(current + stripped)
        current = ""
    return lines


def parse(path: Path) -> tuple[dict[str, str], list[Stage]]:
    """(global ARG defaults, stages) of a Dockerfile."""
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in _logical_lines(path.read_text()):
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            parts = args.split()
            name = parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else None
            stages.append(Stage(parts[0], name))
        elif stages:
            stages[-1].instructions.append((keyword, args.strip()))
        elif keyword == "ARG":
            key, _, default = args.partition("=")
            global_args[key.strip()] = default.strip()
    return global_args, stages


def arg_defaults(stage: Stage) -> dict[str, str]:
    """The defaults of a stage's own ``ARG`` lines."""
    return {
        key.strip(): default.strip()
        for key, _, default in (args.partition("=") for args in stage.arguments("ARG"))
    }


def substitute(value: str, variables: dict[str, str]) -> str:
    """``${NAME}`` / ``$NAME`` replaced from ``variables``."""
    return re.sub(
        r"\$\{(\w+)\}|\$(\w+)",
        lambda m: variables.get(m.group(1) or m.group(2), m.group(0)),
        value,
    )


def dockerignore_admits(patterns_text: str, top_level_name: str) -> bool:
    """Whether a top-level file or directory enters the build context (last match wins)."""
    admitted = True
    for raw in patterns_text.splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negated = pattern.startswith("!")
        pattern = pattern.removeprefix("!").rstrip("/")
        if "/" not in pattern and fnmatch.fnmatch(top_level_name, pattern):
            admitted = negated
    return admitted
