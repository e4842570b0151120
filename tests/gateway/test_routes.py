"""Each resource's routes doing their job against the real services (happy paths and
the errors a user meets), beyond what the journey, authorization and fuzz tests cover."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

from tests.gateway.payloads import dca_config
from tests.testkit.services import service_metadata
from trading.notification.v1 import notification_service_pb2 as npb
from trading.notification.v1 import notification_service_pb2_grpc as npb_grpc


async def _create(user, name: str = "BTC DCA", **config_changes) -> dict:
    config = dca_config(name)
    config.update(config_changes)
    response = await user.client.post("/v1/strategies", json={"config": config})
    assert response.status_code == 201, response.text
    return response.json()


def _notify_many(stack, user_id: uuid.UUID, count: int) -> list[str]:
    async def call() -> list[str]:
        import grpc

        ids = []
        async with grpc.aio.insecure_channel(stack.address("notification")) as channel:
            stub = npb_grpc.NotificationServiceStub(channel)
            for n in range(count):
                reply = await stub.Notify(
                    npb.NotifyRequest(
                        user_id=str(user_id),
                        idempotency_key=f"routes-{uuid.uuid4()}",
                        type=npb.NOTIFICATION_TYPE_SYSTEM,
                        title=f"Notice {n}",
                    ),
                    metadata=service_metadata(),
                    timeout=5,
                )
                ids.append(reply.notification.id)
        return ids

    return stack.run(call())


# --- strategies -------------------------------------------------------------------------


async def test_strategy_lifecycle_when_driven_over_http_follows_every_step(new_user):
    alice = await new_user()
    strategy = await _create(alice)
    url = f"/v1/strategies/{strategy['strategy_id']}"

    updated = await alice.client.put(
        url, json={"config": dca_config("Renamed"), "expected_version": strategy["version"]}
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["config"]["name"] == "Renamed"
    assert updated.json()["version"] == strategy["version"] + 1

    stale = await alice.client.put(
        url, json={"config": dca_config("Again"), "expected_version": strategy["version"]}
    )
    assert stale.status_code == 409

    for action, status in (("activate", "active"), ("pause", "paused"), ("resume", "active")):
        response = await alice.client.post(f"{url}/{action}")
        assert response.status_code == 200, f"{action}: {response.text}"
        assert response.json()["status"] == status

    refused = await alice.client.delete(url)
    assert refused.status_code == 409, "an active strategy cannot be deleted"

    stopped = await alice.client.post(f"{url}/stop", json={"reason": "done for today"})
    assert stopped.json()["status"] == "stopped"
    transitions = (await alice.client.get(f"{url}/transitions")).json()["transitions"]
    assert [t["to_status"] for t in transitions][-4:] == ["active", "paused", "active", "stopped"]
    assert transitions[-1]["reason"] == "done for today"
    assert transitions[-1]["actor"] == "user"

    assert (await alice.client.delete(url)).status_code == 204
    assert (await alice.client.get(url)).status_code == 404


async def test_create_strategy_when_config_is_invalid_is_400_naming_the_dotted_field(new_user):
    alice = await new_user()
    config = dca_config()
    config["dca"]["base_order_amount"] = "-5"
    response = await alice.client.post("/v1/strategies", json={"config": config})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["field"] == "config.dca.base_order_amount"


async def test_list_strategies_when_filtered_and_paged_returns_only_those(new_user):
    alice = await new_user()
    created = [await _create(alice, f"S{n}") for n in range(3)]
    await alice.client.post(f"/v1/strategies/{created[0]['strategy_id']}/activate")
    drafts = (await alice.client.get("/v1/strategies", params={"status": "draft"})).json()
    assert {s["strategy_id"] for s in drafts["strategies"]} == {
        c["strategy_id"] for c in created[1:]
    }
    first = (await alice.client.get("/v1/strategies", params={"limit": 2})).json()
    assert len(first["strategies"]) == 2
    assert first["next_cursor"]
    rest = (
        await alice.client.get(
            "/v1/strategies", params={"limit": 2, "cursor": first["next_cursor"]}
        )
    ).json()
    seen = [s["strategy_id"] for s in first["strategies"] + rest["strategies"]]
    assert sorted(seen) == sorted(c["strategy_id"] for c in created)


async def test_strategy_reads_when_nothing_traded_yet_are_empty_not_404(new_user):
    alice = await new_user()
    strategy = await _create(alice)
    base = f"/v1/strategies/{strategy['strategy_id']}"
    assert (await alice.client.get(f"{base}/orders")).json()["orders"] == []
    assert (await alice.client.get(f"{base}/positions")).json()["positions"] == []
    assert (await alice.client.get(f"{base}/performance")).status_code == 200
    assert (await alice.client.get("/v1/orders")).json()["orders"] == []
    assert (await alice.client.get("/v1/positions")).json()["positions"] == []
    assert (await alice.client.get("/v1/performance")).status_code == 200


async def test_broker_credentials_when_stored_are_never_echoed(new_user):
    alice = await new_user()
    response = await alice.client.put(
        "/v1/broker-credentials",
        json={"broker": "alpaca", "api_key_id": "PKTESTKEY12345678", "api_secret": "sekret-abcdef"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["api_key_id_hint"].endswith("5678")
    assert "sekret" not in response.text
    assert "PKTESTKEY1234" not in response.text


# --- risk -------------------------------------------------------------------------------


async def test_risk_score_when_strategy_exists_has_a_score_and_factors(new_user):
    alice = await new_user()
    strategy = await _create(alice)
    response = await alice.client.get(f"/v1/strategies/{strategy['strategy_id']}/risk-score")
    assert response.status_code == 200, response.text
    body = response.json()
    assert 0 <= body["score"] <= 100
    assert body["factors"]
    assert body["worst_case"] is not None, "a DCA bot has a worst-case commitment"


async def test_effective_limits_when_asked_with_and_without_a_strategy_name_their_sources(
    new_user,
):
    alice = await new_user()
    strategy = await _create(alice)
    account = (await alice.client.get("/v1/risk/limits")).json()
    with_strategy = (
        await alice.client.get("/v1/risk/limits", params={"strategy_id": strategy["strategy_id"]})
    ).json()
    assert account["tier"] != "unspecified"
    assert account["limits"]
    sources = {limit["source"] for limit in with_strategy["limits"]}
    assert "strategy" in sources


async def _active(alice, *, never_enters: bool = False, **risk_controls) -> dict:
    config = dca_config()
    config["risk_controls"].update(risk_controls)
    if never_enters:
        # Entry only when RSI <= 1: the bot itself places no order during the test.
        config["dca"]["rsi_entry_filter"] = True
        config["technical_indicators"] = {
            "rsi_period": 14,
            "rsi_buy_threshold": "1",
            "rsi_sell_threshold": "99",
        }
    created = await alice.client.post("/v1/strategies", json={"config": config})
    assert created.status_code == 201, created.text
    activated = await alice.client.post(f"/v1/strategies/{created.json()['strategy_id']}/activate")
    assert activated.status_code == 200, activated.text
    return activated.json()


def _preview(strategy: dict, notional: str) -> dict:
    return {
        "strategy_id": strategy["strategy_id"],
        "order": {"symbol": "BTC/USD", "side": "buy", "order_type": "market", "notional": notional},
        "price": "40000",
    }


async def test_trade_preview_when_order_fits_is_allowed_with_every_check(new_user):
    alice = await new_user()
    strategy = await _active(alice)
    response = await alice.client.post("/v1/risk/trade-preview", json=_preview(strategy, "100"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["allowed"] is True, body
    assert body["checks"]
    assert all(check["outcome"] != "failed" for check in body["checks"])


async def test_trade_preview_when_order_exceeds_the_allocation_is_denied_with_reasons(new_user):
    alice = await new_user()
    strategy = await _active(alice)
    response = await alice.client.post("/v1/risk/trade-preview", json=_preview(strategy, "1000000"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["allowed"] is False
    assert body["reason_code"]
    assert any(check["outcome"] == "failed" for check in body["checks"])


async def test_trade_preview_when_repeated_spends_no_order_budget(new_user):
    """A preview is not an order: it must not count against the per-minute order limit."""
    alice = await new_user()
    strategy = await _active(alice, never_enters=True, max_orders_per_minute=2)
    answers = [
        (await alice.client.post("/v1/risk/trade-preview", json=_preview(strategy, "50"))).json()
        for _ in range(4)
    ]
    assert [a["allowed"] for a in answers] == [True] * 4, (
        "later previews were denied because earlier ones were counted as orders: "
        f"{[a['reason_code'] for a in answers]}"
    )


async def test_kill_switch_when_set_and_lifted_by_the_user_is_listed_then_gone(new_user):
    alice = await new_user()
    strategy = await _create(alice)
    halted = await alice.client.put(
        f"/v1/strategies/{strategy['strategy_id']}/kill-switch",
        json={"mode": "halted", "reason": "market looks wrong"},
    )
    assert halted.status_code == 200, halted.text
    assert halted.json()["kill_switch"]["scope"] == "strategy"
    account = await alice.client.put(
        "/v1/risk/kill-switch", json={"mode": "reducing", "reason": "cooling off"}
    )
    assert account.json()["kill_switch"]["mode"] == "reducing"
    listed = (await alice.client.get("/v1/risk/kill-switches")).json()["kill_switches"]
    assert {(k["scope"], k["mode"]) for k in listed} >= {
        ("strategy", "halted"),
        ("user", "reducing"),
    }
    lifted = await alice.client.put("/v1/risk/kill-switch", json={"mode": "off"})
    assert lifted.status_code == 200, lifted.text
    assert lifted.json()["kill_switch"] is None
    remaining = (await alice.client.get("/v1/risk/kill-switches")).json()["kill_switches"]
    assert ("user", "reducing") not in {(k["scope"], k["mode"]) for k in remaining}


async def test_kill_switch_when_reason_missing_is_400_naming_it(new_user):
    alice = await new_user()
    response = await alice.client.put("/v1/risk/kill-switch", json={"mode": "halted"})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "reason"


# --- backtests --------------------------------------------------------------------------


def _period(days: int = 10) -> dict:
    end = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=1)
    return {
        "start_time": (end - dt.timedelta(days=days)).isoformat(),
        "end_time": end.isoformat(),
        "timeframe": "1h",
    }


async def test_submit_backtest_when_period_is_reversed_is_400_naming_the_body_field(new_user):
    alice = await new_user()
    period = _period()
    period["start_time"], period["end_time"] = period["end_time"], period["start_time"]
    response = await alice.client.post("/v1/backtests", json={"config": dca_config(), **period})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["field"] == "end_time"


async def test_submit_backtest_when_neither_strategy_nor_config_is_400(new_user):
    alice = await new_user()
    response = await alice.client.post("/v1/backtests", json=_period())
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "config"


async def test_backtest_of_a_config_when_finished_is_listed_and_cancel_leaves_it(new_user):
    alice = await new_user()
    submitted = await alice.client.post(
        "/v1/backtests", json={"config": dca_config(), **_period(5)}
    )
    assert submitted.status_code == 202, submitted.text
    backtest_id = submitted.json()["backtest_id"]
    async with asyncio.timeout(60):
        while True:
            current = (await alice.client.get(f"/v1/backtests/{backtest_id}")).json()
            if current["status"] in ("completed", "failed"):
                break
            await asyncio.sleep(0.2)
    assert current["status"] == "completed", current["error"]
    # Scored by the real risk service (its figures sent at a precision risk accepts).
    assert current["risk_score_status"] == "scored", current["risk_score_note"]
    assert 0 <= float(current["risk_score"]) <= 100
    listed = (await alice.client.get("/v1/backtests")).json()["backtests"]
    assert [b["backtest_id"] for b in listed] == [backtest_id]
    assert listed[0]["equity_curve"] == [], "summaries carry no curve"
    cancelled = await alice.client.post(f"/v1/backtests/{backtest_id}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "completed", "cancel returns it as it is"
    after = (await alice.client.get(f"/v1/backtests/{backtest_id}")).json()
    assert after["status"] == "completed", "a finished backtest is left as it is"
    assert after["metrics"] == current["metrics"]


# --- notifications ----------------------------------------------------------------------


async def test_notifications_when_paged_read_and_deleted_keep_counts_right(new_user, stack):
    alice = await new_user()
    ids = _notify_many(stack, alice.id, 3)
    assert (await alice.client.get("/v1/notifications/unread-count")).json() == {"unread_count": 3}
    first = (await alice.client.get("/v1/notifications", params={"limit": 2})).json()
    assert [n["id"] for n in first["notifications"]] == ids[::-1][:2]
    rest = (
        await alice.client.get(
            "/v1/notifications", params={"limit": 2, "cursor": first["next_cursor"]}
        )
    ).json()
    assert [n["id"] for n in rest["notifications"]] == [ids[0]]

    marked = await alice.client.post("/v1/notifications/read", json={"notification_ids": [ids[0]]})
    assert marked.json() == {"marked_count": 1, "unread_count": 2}
    unread = (await alice.client.get("/v1/notifications", params={"unread_only": True})).json()
    assert {n["id"] for n in unread["notifications"]} == set(ids[1:])

    assert (await alice.client.delete(f"/v1/notifications/{ids[1]}")).status_code == 204
    assert (await alice.client.delete(f"/v1/notifications/{ids[1]}")).status_code == 404
    everything = await alice.client.post("/v1/notifications/read", json={"all": True})
    assert everything.json() == {"marked_count": 1, "unread_count": 0}


async def test_preferences_when_muting_a_type_is_kept_and_returned(new_user):
    alice = await new_user()
    response = await alice.client.patch(
        "/v1/profile/notifications", json={"muted_types": ["backtest_completed"]}
    )
    assert response.status_code == 200, response.text
    again = (await alice.client.get("/v1/profile/notifications")).json()
    assert again["muted_types"] == ["backtest_completed"]
    assert again["notifications_enabled"] is True


# --- marketplace ------------------------------------------------------------------------


async def test_marketplace_when_published_can_be_found_rated_by_others_and_cloned(new_user):
    alice, bob = await new_user(), await new_user()
    strategy = await _create(alice, "Shared DCA")
    published = await alice.client.post(
        "/v1/marketplace/strategies",
        json={"strategy_id": strategy["strategy_id"], "description": "steady"},
    )
    assert published.status_code == 202, published.text
    listing = published.json()
    assert listing["author_id"] == str(alice.id)
    assert listing["is_verified"] is False
    listing_url = f"/v1/marketplace/strategies/{listing['community_strategy_id']}"

    found = (await bob.client.get("/v1/marketplace/strategies")).json()["strategies"]
    assert listing["community_strategy_id"] in {s["community_strategy_id"] for s in found}

    own_rating = await alice.client.put(f"{listing_url}/rating", json={"rating": 5})
    assert own_rating.status_code == 409, "an author cannot rate their own listing"
    rated = await bob.client.put(f"{listing_url}/rating", json={"rating": 4})
    assert rated.status_code == 200, rated.text
    assert rated.json() == {"rating_average": "4", "rating_count": 1, "my_rating": 4} or (
        rated.json()["rating_count"] == 1 and rated.json()["my_rating"] == 4
    )
    rerated = await bob.client.put(f"{listing_url}/rating", json={"rating": 2})
    assert rerated.json()["rating_count"] == 1, "a second rating replaces the first"

    cloned = await bob.client.post(f"{listing_url}/clone", json={"name": "Bob's copy"})
    assert cloned.status_code == 201, cloned.text
    assert cloned.json()["user_id"] == str(bob.id)
    assert cloned.json()["config"]["name"] == "Bob's copy"
    assert cloned.json()["config"]["dca"] == strategy["config"]["dca"]
    assert cloned.json()["status"] == "draft"

    high = (await bob.client.get("/v1/marketplace/strategies", params={"min_rating": "3"})).json()[
        "strategies"
    ]
    assert listing["community_strategy_id"] not in {s["community_strategy_id"] for s in high}
