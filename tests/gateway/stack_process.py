"""The whole-platform stack in a child process: ``python -m tests.gateway.stack_process NAME DSN``.

Prints the gateway's base URL on one line, serves until its stdin closes, then stops.
Used where the tests' own process must not share its interpreter with the services:
Hypothesis (under schemathesis) watches the global ``random`` state during generation,
and the services' threads and tasks use it too.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator

from tests.gateway.stack import GatewayStack
from tests.testkit.database import ClonedDatabase


@contextlib.contextmanager
def stack_in_child_process(database: ClonedDatabase, timeout: float = 120.0) -> Iterator[str]:
    """Start the stack in a child process on ``database``; yields the gateway's base URL."""
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.gateway.stack_process", database.name, database.admin_dsn],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        base_url = child.stdout.readline().strip()
        if not base_url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"the stack process did not start (said {base_url!r})")
        yield base_url
    finally:
        if child.stdin:
            child.stdin.close()
        try:
            child.wait(timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def main() -> None:
    name, admin_dsn = sys.argv[1], sys.argv[2]
    stack = GatewayStack(ClonedDatabase(name=name, admin_dsn=admin_dsn)).start()
    if stack.missing:
        print(f"services not running: {stack.missing}", file=sys.stderr, flush=True)
    print(stack.base_url, flush=True)
    try:
        sys.stdin.read()  # until the parent closes our stdin (or dies)
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
