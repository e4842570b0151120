"""Run every benchmark (bench/bench_*.py and the echo floor), print a table, write JSON.

Usage: python -m bench.run [name-substring ...]
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import sys
import time
import traceback
from pathlib import Path

import bench
from servicekit.compiled import COMPILED_MODULES, compiled_modules, exit_if_stale

RESULTS = Path(__file__).with_name("results.json")


def _modules(filters: list[str]) -> list[str]:
    found = sorted(
        f"bench.{info.name}"
        for info in pkgutil.iter_modules(bench.__path__)
        if info.name.startswith("bench_")
    )
    names = ["bench.echo", *found]
    return [name for name in names if not filters or any(f in name for f in filters)]


def _print_table(rows: list[dict]) -> None:
    print(f"{'benchmark':48} {'value':>12} {'unit':10} {'baseline':>12} {'ratio':>8}")
    for row in rows:
        baseline = "" if row.get("baseline_value") is None else f"{row['baseline_value']:.4g}"
        ratio = "" if row.get("ratio") is None else f"{row['ratio']:.3g}"
        print(f"{row['name']:48} {row['value']:>12.4g} {row['unit']:10} {baseline:>12} {ratio:>8}")
        if row.get("baseline"):
            print(f"{'':48}   baseline: {row['baseline']}")


def main(argv: list[str]) -> int:
    exit_if_stale("bench")
    compiled = compiled_modules()
    print(f"# compiled with mypyc: {len(compiled)} of {len(COMPILED_MODULES)} modules", flush=True)
    rows: list[dict] = []
    failed = []
    for name in _modules(argv):
        # What the previous bench wrote (the notification bench leaves ~280 MB of dirty
        # pages behind) goes to disk now, not in the kernel's writeback during the next
        # bench's measurements.
        os.sync()
        started = time.perf_counter()
        print(f"# {name} ...", flush=True)
        try:
            rows.extend(importlib.import_module(name).run())
        except Exception:
            traceback.print_exc()
            failed.append(name)
        print(f"# {name} took {time.perf_counter() - started:.1f}s", flush=True)
    _print_table(rows)
    RESULTS.write_text(json.dumps(rows, indent=2) + "\n")
    print(f"wrote {RESULTS}")
    if failed:
        print("benchmarks that failed: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
