"""The floor every service is held against: a bare grpc.aio echo round trip."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import grpc

from bench.harness import Latency, measure_latency, measure_throughput, result

_METHOD = "/bench.Echo/Echo"


async def _echo(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    return request


@contextlib.asynccontextmanager
async def echo_server() -> AsyncIterator[int]:
    """A grpc.aio server on 127.0.0.1 answering each request with its own bytes."""
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    handler = grpc.method_handlers_generic_handler(
        "bench.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(_echo)}
    )
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield port
    finally:
        await server.stop(None)


def echo_caller(channel: grpc.aio.Channel) -> Callable[[], Awaitable[object]]:
    """One echo round trip of a 64-byte message over ``channel``."""
    echo = channel.unary_unary(_METHOD)
    payload = b"x" * 64

    async def call() -> object:
        return await echo(payload, timeout=5)

    return call


@dataclass(frozen=True)
class EchoFigures:
    throughput_per_s: float
    latency: Latency


async def measure_echo(
    concurrency: int = 64, seconds: float = 3.0, sequential_calls: int = 2000
) -> EchoFigures:
    """Throughput at ``concurrency`` callers and sequential latency of the bare echo."""
    async with echo_server() as port, grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        call = echo_caller(channel)
        latency = await measure_latency(call, sequential_calls)
        throughput = await measure_throughput(call, concurrency, seconds)
    return EchoFigures(throughput, latency)


def run() -> list[dict]:
    figures = asyncio.run(measure_echo())
    return [
        result(
            "echo.throughput_64_callers", figures.throughput_per_s, "calls/s", higher_is_better=True
        ),
        result("echo.sequential_p50", figures.latency.p50_ms, "ms"),
        result("echo.sequential_p99", figures.latency.p99_ms, "ms"),
    ]
