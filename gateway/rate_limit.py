"""Token buckets: per user on expensive routes, per client address for anonymous requests.

In-process and in memory: each gateway replica counts on its own, so with N replicas a
user gets up to N times the configured rate. That is good enough to stop a runaway
client; the quotas that must hold across replicas (backtests per tier) are enforced by
the backtest service in the database, and reach the client as 429 with Retry-After too.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.errors import error_response


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBucketLimiter:
    """``burst`` requests at once, refilled at ``rate_per_minute``; least recent keys evicted."""

    def __init__(
        self,
        rate_per_minute: float,
        burst: int,
        *,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._rate_per_second = rate_per_minute / 60.0
        self._burst = float(burst)
        self._max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[Hashable, _Bucket] = OrderedDict()

    def acquire(self, key: Hashable) -> float:
        """Take one token for ``key``: 0.0 when allowed, else the seconds until one is free."""
        now = self._clock()
        bucket = self._buckets.pop(key, None)
        if bucket is None:
            bucket = _Bucket(tokens=self._burst, updated=now)
        else:
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(self._burst, bucket.tokens + elapsed * self._rate_per_second)
            bucket.updated = now
        self._buckets[key] = bucket
        if len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self._rate_per_second


def retry_after_header(wait_seconds: float) -> dict[str, str]:
    """The Retry-After header for a wait (whole seconds, at least 1)."""
    return {"Retry-After": str(max(1, math.ceil(wait_seconds)))}


# Probes must never be throttled: a rate-limited readiness probe would flap the pod.
_UNLIMITED_PATHS = frozenset({"/healthz", "/readyz"})


def client_address(scope: Scope) -> str:
    """The client's address (uvicorn resolves X-Forwarded-For from trusted proxies)."""
    client = scope.get("client")
    return client[0] if client else "unknown"


def _has_bearer_token(scope: Scope) -> bool:
    for key, value in scope.get("headers", ()):
        if key == b"authorization":
            return value[:7].lower() == b"bearer "
    return False


class AnonymousRateLimitMiddleware:
    """Limits requests without a bearer token per client address.

    Requests that carry a token but fail verification are counted by the auth dependency
    against the same bucket, so guessing tokens is throttled too.
    """

    def __init__(self, app: ASGIApp, limiter: TokenBucketLimiter):
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"] not in _UNLIMITED_PATHS
            and scope.get("method") != "OPTIONS"
            and not _has_bearer_token(scope)
        ):
            wait = self.limiter.acquire(("ip", client_address(scope)))
            if wait:
                response = error_response(
                    429,
                    "rate_limited",
                    "too many requests",
                    reason="GATEWAY_RATE_LIMIT",
                    headers=retry_after_header(wait),
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
