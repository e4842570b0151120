"""Mass assignment: fields a user must not set are refused (400 naming them), never applied."""

from __future__ import annotations

import pytest

from tests.gateway.payloads import dca_config


def _refused(response, field: str) -> None:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_argument"
    assert error["field"] == field


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"user_id": "00000000-0000-0000-0000-000000000001"}, "user_id"),
        ({"status": "active"}, "status"),
        ({"risk_score": "1"}, "risk_score"),
        ({"version": 99}, "version"),
        ({"strategy_id": "00000000-0000-0000-0000-000000000002"}, "strategy_id"),
    ],
)
async def test_create_strategy_when_body_sets_a_server_field_is_refused_and_nothing_created(
    new_user, extra, field
):
    alice = await new_user()
    response = await alice.client.post("/v1/strategies", json={"config": dca_config(), **extra})
    _refused(response, field)
    listed = await alice.client.get("/v1/strategies")
    assert listed.json()["strategies"] == []


async def test_create_strategy_when_nested_config_has_an_unknown_field_is_refused(new_user):
    alice = await new_user()
    config = dca_config()
    config["dca"]["owner_id"] = "someone"
    _refused(
        await alice.client.post("/v1/strategies", json={"config": config}), "config.dca.owner_id"
    )


async def test_update_strategy_when_body_sets_owner_is_refused_and_strategy_unchanged(new_user):
    alice, bob = await new_user(), await new_user()
    created = (await alice.client.post("/v1/strategies", json={"config": dca_config()})).json()
    url = f"/v1/strategies/{created['strategy_id']}"
    body = {
        "config": dca_config("renamed"),
        "expected_version": created["version"],
        "user_id": str(bob.id),
    }
    _refused(await alice.client.put(url, json=body), "user_id")
    after = (await alice.client.get(url)).json()
    assert after["user_id"] == str(alice.id)
    assert after["version"] == created["version"]
    assert after["config"]["name"] == "BTC DCA"


@pytest.mark.parametrize("tier", ["elite", "pro"])
async def test_update_profile_when_body_sets_tier_is_refused_and_tier_unchanged(new_user, tier):
    alice = await new_user()
    before = (await alice.client.get("/v1/profile")).json()
    _refused(await alice.client.patch("/v1/profile", json={"tier": tier}), "tier")
    _refused(
        await alice.client.patch("/v1/profile", json={"paper_mode": False, "tier": tier}), "tier"
    )
    after = (await alice.client.get("/v1/profile")).json()
    assert after["tier"] == before["tier"]
    assert after["paper_mode"] == before["paper_mode"]


async def test_update_profile_when_body_is_allowed_changes_only_those_fields(new_user):
    alice = await new_user()
    before = (await alice.client.get("/v1/profile")).json()
    updated = await alice.client.patch("/v1/profile", json={"risk_tolerance": "conservative"})
    assert updated.status_code == 200, updated.text
    assert updated.json()["risk_tolerance"] == "conservative"
    assert updated.json()["tier"] == before["tier"]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"is_verified": True}, "is_verified"),
        ({"verification_status": "verified"}, "verification_status"),
        ({"rating_average": "5"}, "rating_average"),
        ({"rating_count": 1000}, "rating_count"),
        ({"author_id": "00000000-0000-0000-0000-000000000001"}, "author_id"),
        ({"config": dca_config()}, "config"),
    ],
)
async def test_publish_when_body_sets_verification_rating_or_author_is_refused(
    new_user, extra, field
):
    alice = await new_user()
    created = (await alice.client.post("/v1/strategies", json={"config": dca_config()})).json()
    response = await alice.client.post(
        "/v1/marketplace/strategies", json={"strategy_id": created["strategy_id"], **extra}
    )
    _refused(response, field)


async def test_rate_when_body_sets_the_average_is_refused(new_user):
    bob = await new_user()
    response = await bob.client.put(
        "/v1/marketplace/strategies/00000000-0000-0000-0000-000000000001/rating",
        json={"rating": 5, "rating_average": "5"},
    )
    _refused(response, "rating_average")


@pytest.mark.parametrize(
    ("extra", "field"),
    [({"tier": "elite"}, "tier"), ({"user_id": "00000000-0000-0000-0000-000000000001"}, "user_id")],
)
async def test_submit_backtest_when_body_sets_tier_or_owner_is_refused(new_user, extra, field):
    alice = await new_user()
    response = await alice.client.post("/v1/backtests", json={"config": dca_config(), **extra})
    _refused(response, field)
    assert (await alice.client.get("/v1/backtests")).json()["backtests"] == []


async def test_preferences_when_body_sets_output_only_fields_is_refused(new_user):
    alice = await new_user()
    for field, value in (("webhook_secret_set", True), ("updated_at", "2026-01-01T00:00:00Z")):
        _refused(await alice.client.patch("/v1/profile/notifications", json={field: value}), field)


async def test_preferences_when_webhook_secret_set_is_never_returned(new_user):
    alice = await new_user()
    response = await alice.client.patch(
        "/v1/profile/notifications",
        json={
            "webhook_url": "https://hooks.example.test/x",
            "webhook_secret": "s3cr3t-value-123456",
        },
    )
    assert response.status_code == 200, response.text
    assert "s3cr3t" not in response.text
    assert response.json()["webhook_secret_set"] is True
    assert "s3cr3t" not in (await alice.client.get("/v1/profile/notifications")).text
