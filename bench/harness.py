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


@dataclass(frozen=True)
class Compared:
    """A call measured in rounds that alternate with a reference call (same process, same
    loop): the medians of each, and every round's ratio. Alternating rounds spread the
    machine's noise over both instead of letting it land on one."""

    value: float
    reference: float
    round_ratios: tuple[float, ...]


async def compare_throughput(
    call: Call, reference: Call, *, rounds: int, concurrency: int = 64, seconds: float = 2.0
) -> Compared:
    """Calls per second of ``call`` and ``reference``, ``rounds`` alternating rounds each."""
    values, references = [], []
    for _ in range(rounds):
        references.append(await measure_throughput(reference, concurrency, seconds))
        values.append(await measure_throughput(call, concurrency, seconds))
    return Compared(
        statistics.median(values),
        statistics.median(references),
        tuple(round(v / r, 3) for v, r in zip(values, references, strict=True)),
    )


async def compare_latency(
    call: Call, reference: Call, *, rounds: int, calls: int = 1000
) -> tuple[Latency, Latency]:
    """Sequential latency of ``call`` and ``reference`` in alternating rounds: for each,
    the median over the rounds of each round's p50, p99 and mean."""
    mine, theirs = [], []
    for _ in range(rounds):
        theirs.append(await measure_latency(reference, calls))
        mine.append(await measure_latency(call, calls))
    return _median_latency(mine), _median_latency(theirs)


def _median_latency(rounds: list[Latency]) -> Latency:
    return Latency(
        p50_ms=statistics.median(r.p50_ms for r in rounds),
        p99_ms=statistics.median(r.p99_ms for r in rounds),
        mean_ms=statistics.median(r.mean_ms for r in rounds),
        calls=sum(r.calls for r in rounds),
    )


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
