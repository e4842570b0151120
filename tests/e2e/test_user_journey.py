"""A user's whole journey over real HTTP, every service and the database really running:
sign in, create a strategy, backtest it and watch the progress, activate it, receive its
trades live, read the performance summary."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt

from tests.gateway.payloads import dca_config
from tests.gateway.sse_client import Event, read_events

PATIENCE_SECONDS = 60.0


async def _collect(client, path: str, into: list[Event], ready: asyncio.Event) -> None:
    async with client.stream("GET", path, headers={"Accept": "text/event-stream"}) as response:
        assert response.status_code == 200, await response.aread()
        async for event in read_events(response):
            into.append(event)
            ready.set()


async def _wait_for(predicate, what: str, timeout: float = PATIENCE_SECONDS):
    async with asyncio.timeout(timeout):
        while True:
            found = await predicate()
            if found:
                return found
            await asyncio.sleep(0.2)
    raise AssertionError(what)  # pragma: no cover - the timeout raises first


async def test_user_journey_when_everything_runs_trades_reach_the_browser(new_user, stack):
    alice = await new_user()

    # Signed in: the gateway verified the token and the services know her.
    profile = await alice.client.get("/v1/profile")
    assert profile.status_code == 200, profile.text
    assert profile.json()["user_id"] == str(alice.id)

    # Create a strategy.
    created = await alice.client.post("/v1/strategies", json={"config": dca_config()})
    assert created.status_code == 201, created.text
    strategy = created.json()
    assert strategy["status"] == "draft"
    strategy_id = strategy["strategy_id"]

    # Backtest it and watch the progress until the result.
    end = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=1)
    submitted = await alice.client.post(
        "/v1/backtests",
        json={
            "strategy_id": strategy_id,
            # Minute bars over two weeks: long enough for progress to show.
            "start_time": (end - dt.timedelta(days=14)).isoformat(),
            "end_time": end.isoformat(),
            "timeframe": "1m",
            "data_source": "synthetic",
        },
    )
    assert submitted.status_code == 202, submitted.text
    backtest_id = submitted.json()["backtest_id"]
    events: list[Event] = []
    async with (
        asyncio.timeout(PATIENCE_SECONDS),
        alice.client.stream("GET", f"/v1/backtests/{backtest_id}/events") as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        async for event in read_events(response):
            events.append(event)
            if event.name == "result":
                break
    assert events[-1].name == "result"
    assert events[-1].json()["status"] == "completed", events[-1].data
    progress = [e.json() for e in events[:-1]]
    assert all(e.name == "progress" for e in events[:-1])
    assert all(p["backtest_id"] == backtest_id for p in progress)
    fractions = [p["progress"] for p in progress]
    assert fractions == sorted(fractions), "progress never goes back"
    assert all(0 <= f <= 1 for f in fractions)
    finished = await alice.client.get(f"/v1/backtests/{backtest_id}")
    assert finished.json()["metrics"]["trade_count"] >= 0
    assert finished.json()["equity_curve"], "a completed backtest has its equity curve"

    # Listen for notifications, then activate the strategy.
    notifications: list[Event] = []
    listening = asyncio.Event()
    listener = asyncio.create_task(
        _collect(alice.client, "/v1/notifications/events", notifications, listening)
    )
    try:
        await asyncio.wait_for(listening.wait(), PATIENCE_SECONDS)
        assert notifications[0].name == "ready"

        activated = await alice.client.post(f"/v1/strategies/{strategy_id}/activate")
        assert activated.status_code == 200, activated.text
        assert activated.json()["status"] == "active"
        assert activated.json()["risk_score"] != ""

        async def trade_event():
            for event in notifications:
                if event.name == "notification" and event.json()["type"] == "trade_executed":
                    return event
            return None

        trade = await _wait_for(trade_event, "no trade notification arrived on the stream")
        assert trade.json()["strategy_id"] == strategy_id
        assert trade.id == trade.json()["id"]
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener

    # The performance summary shows the trading.
    async def summary_with_fills():
        response = await alice.client.get(f"/v1/strategies/{strategy_id}/performance")
        assert response.status_code == 200, response.text
        summaries = response.json()["summaries"]
        return summaries[0] if summaries and summaries[0]["fills_count"] >= 1 else None

    summary = await _wait_for(summary_with_fills, "the performance summary shows no fill")
    assert summary["strategy_id"] == strategy_id
    assert summary["orders_count"] >= 1
    orders = await alice.client.get(f"/v1/strategies/{strategy_id}/orders")
    assert orders.json()["orders"], "the fill's order is listed"
    unread = await alice.client.get("/v1/notifications/unread-count")
    assert unread.json()["unread_count"] >= 1
