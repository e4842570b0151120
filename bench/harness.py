"""Measuring helpers shared by every benchmark: throughput, latency, result rows."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

Call = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class Latency:
    p50_ms: float
    p99_ms: float
    mean_ms: float
    calls: int


async def measure_latency(call: Call, calls: int = 2000, warmup: int = 200) -> Latency:
    """Sequential calls, one at a time: the latency a single caller sees."""
    for _ in range(warmup):
        await call()
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return Latency(
        p50_ms=samples[len(samples) // 2],
        p99_ms=samples[min(len(samples) - 1, int(len(samples) * 0.99))],
        mean_ms=statistics.fmean(samples),
        calls=calls,
    )


async def measure_throughput(call: Call, concurrency: int = 64, seconds: float = 3.0) -> float:
    """Calls per second with ``concurrency`` callers looping for ``seconds``."""
    await asyncio.gather(*(call() for _ in range(concurrency)))  # warm-up
    done = 0
    deadline = time.perf_counter() + seconds

    async def caller() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await call()
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(concurrency)))
    return done / (time.perf_counter() - started)


def result(
    name: str,
    value: float,
    unit: str,
    baseline: str | None = None,
    baseline_value: float | None = None,
    higher_is_better: bool = False,
) -> dict:
    """One row of bench/results.json; ``ratio`` is value/baseline_value."""
    ratio = None
    if baseline_value:
        ratio = round(value / baseline_value, 3)
    return {
        "name": name,
        "value": round(value, 4),
        "unit": unit,
        "baseline": baseline,
        "baseline_value": None if baseline_value is None else round(baseline_value, 4),
        "ratio": ratio,
        "higher_is_better": higher_is_better,
    }
