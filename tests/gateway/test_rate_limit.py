"""Token buckets: per user on expensive routes, per client address for anonymous calls."""

from __future__ import annotations

import datetime as dt

import pytest

from gateway.deps import RATE_LIMIT_REASON
from gateway.rate_limit import TokenBucketLimiter
from tests.gateway.asgi_app import asgi_client
from tests.gateway.payloads import dca_config


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_acquire_when_burst_is_spent_refuses_with_the_wait_until_a_token():
    clock = FakeClock()
    limiter = TokenBucketLimiter(rate_per_minute=60, burst=2, clock=clock)
    assert limiter.acquire("k") == 0.0
    assert limiter.acquire("k") == 0.0
    assert limiter.acquire("k") == pytest.approx(1.0)
    clock.now += 0.5
    assert limiter.acquire("k") == pytest.approx(0.5)


def test_acquire_when_time_passes_refills_up_to_the_burst_only():
    clock = FakeClock()
    limiter = TokenBucketLimiter(rate_per_minute=60, burst=2, clock=clock)
    limiter.acquire("k")
    limiter.acquire("k")
    clock.now += 3600
    assert [limiter.acquire("k") for _ in range(3)][:2] == [0.0, 0.0]
    assert limiter.acquire("k") > 0


def test_acquire_when_keys_differ_counts_them_apart():
    limiter = TokenBucketLimiter(rate_per_minute=1, burst=1, clock=FakeClock())
    assert limiter.acquire("alice") == 0.0
    assert limiter.acquire("alice") > 0
    assert limiter.acquire("bob") == 0.0


def test_acquire_when_too_many_keys_forgets_the_least_recent():
    limiter = TokenBucketLimiter(rate_per_minute=1, burst=1, max_keys=2, clock=FakeClock())
    limiter.acquire("a")
    limiter.acquire("b")
    limiter.acquire("c")  # evicts "a"
    assert limiter.acquire("a") == 0.0


async def test_anonymous_requests_when_over_the_address_budget_are_429_with_retry_after():
    async with asgi_client(anonymous_burst=3, anonymous_rate_per_minute=1) as client:
        statuses = [(await client.get("/openapi.json")).status_code for _ in range(4)]
        limited = await client.get("/v1/profile")
        health = await client.get("/healthz")
    assert statuses == [200, 200, 200, 429]
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.json()["error"]["code"] == "rate_limited"
    assert health.status_code == 200, "probes are never throttled"


async def test_bad_tokens_when_repeated_are_throttled_per_address():
    async with asgi_client(anonymous_burst=2, anonymous_rate_per_minute=1) as client:
        headers = {"Authorization": "Bearer guessed"}
        statuses = [
            (await client.get("/v1/profile", headers=headers)).status_code for _ in range(3)
        ]
    assert statuses == [401, 401, 429]


def _backtest_body(strategy_id: str) -> dict:
    end = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    return {
        "strategy_id": strategy_id,
        "start_time": (end - dt.timedelta(days=10)).isoformat(),
        "end_time": end.isoformat(),
        "timeframe": "1h",
    }


async def test_backtest_submissions_when_over_the_user_budget_are_429_for_that_user_only(
    new_user, stack
):
    alice, bob = await new_user(), await new_user()
    created = await alice.client.post("/v1/strategies", json={"config": dca_config()})
    assert created.status_code == 201, created.text
    body = _backtest_body(created.json()["strategy_id"])
    burst = 3  # GATEWAY_BACKTEST_BURST's default
    answers = [await alice.client.post("/v1/backtests", json=body) for _ in range(burst + 1)]
    # The first ones reach the backtest service (which may apply its own tier quota: a 429
    # with its own reason); the one past the burst is stopped by the gateway.
    for answer in answers[:burst]:
        assert answer.status_code in (202, 429), answer.text
        if answer.status_code == 429:
            assert answer.json()["error"]["reason"] != RATE_LIMIT_REASON
    limited = answers[burst]
    assert limited.status_code == 429
    assert limited.json()["error"]["reason"] == RATE_LIMIT_REASON
    assert int(limited.headers["retry-after"]) >= 1
    # Bob's budget is his own.
    bob_strategy = await bob.client.post("/v1/strategies", json={"config": dca_config()})
    bob_submit = await bob.client.post(
        "/v1/backtests", json=_backtest_body(bob_strategy.json()["strategy_id"])
    )
    assert bob_submit.status_code == 202, bob_submit.text
