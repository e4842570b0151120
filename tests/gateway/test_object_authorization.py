"""Object-level authorization: user B naming user A's object gets 404 and changes nothing.

The cases are generated from the OpenAPI document: every operation whose path takes a
parameter must have an entry in CASES, so a new route cannot be left untested (its test
fails with "no object-authorization case"). Marketplace listings are public by design:
their entries say so and check that B's call leaves A's listing as it was.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio

from tests.gateway.openapi_routes import routes_with_path_parameters
from tests.gateway.payloads import dca_config
from tests.testkit.services import service_metadata
from trading.notification.v1 import notification_service_pb2 as npb
from trading.notification.v1 import notification_service_pb2_grpc as npb_grpc


@dataclass(frozen=True)
class Case:
    """How B calls a route with A's object, and what B must get."""

    resource: str  # which of A's objects fills the path: strategy, backtest, ...
    body: Any = None
    expected: frozenset[int] = frozenset({404})
    why_public: str = ""  # set when B may use A's object by design
    query: dict[str, str] = field(default_factory=dict)


def _public(resource: str, expected: set[int], why: str, body: Any = None) -> Case:
    return Case(resource, body, frozenset(expected), why)


CASES: dict[tuple[str, str], Case] = {
    ("GET", "/v1/strategies/{strategy_id}"): Case("strategy"),
    ("PUT", "/v1/strategies/{strategy_id}"): Case(
        "strategy", {"config": dca_config("taken over"), "expected_version": 1}
    ),
    ("DELETE", "/v1/strategies/{strategy_id}"): Case("strategy"),
    ("POST", "/v1/strategies/{strategy_id}/activate"): Case("strategy"),
    ("POST", "/v1/strategies/{strategy_id}/pause"): Case("strategy", {"reason": "mine now"}),
    ("POST", "/v1/strategies/{strategy_id}/resume"): Case("strategy"),
    ("POST", "/v1/strategies/{strategy_id}/stop"): Case("strategy", {"reason": "mine now"}),
    ("GET", "/v1/strategies/{strategy_id}/transitions"): Case("strategy"),
    ("GET", "/v1/strategies/{strategy_id}/orders"): Case("strategy"),
    ("GET", "/v1/strategies/{strategy_id}/positions"): Case("strategy"),
    ("GET", "/v1/strategies/{strategy_id}/performance"): Case("strategy"),
    ("GET", "/v1/strategies/{strategy_id}/risk-score"): Case("strategy"),
    ("PUT", "/v1/strategies/{strategy_id}/kill-switch"): Case(
        "strategy", {"mode": "halted", "reason": "stop A's bot"}
    ),
    ("GET", "/v1/backtests/{backtest_id}"): Case("backtest"),
    ("POST", "/v1/backtests/{backtest_id}/cancel"): Case("backtest"),
    ("GET", "/v1/backtests/{backtest_id}/events"): Case("backtest"),
    ("DELETE", "/v1/notifications/{notification_id}"): Case("notification"),
    ("GET", "/v1/marketplace/strategies/{community_strategy_id}"): _public(
        "listing", {200}, "a published listing is public: anyone signed in may read it"
    ),
    ("PUT", "/v1/marketplace/strategies/{community_strategy_id}/rating"): _public(
        "listing", {200}, "anyone but the author rates a public listing", {"rating": 4}
    ),
    ("POST", "/v1/marketplace/strategies/{community_strategy_id}/clone"): _public(
        "listing", {201}, "cloning makes B a strategy of B's own", {}
    ),
}


@dataclass
class AlicesObjects:
    ids: dict[str, str]
    snapshot: dict[str, Any]


async def _notify(stack, user_id: uuid.UUID) -> str:
    """A notification for ``user_id``, stored as a service would store it."""

    async def call() -> str:
        import grpc

        async with grpc.aio.insecure_channel(stack.address("notification")) as channel:
            reply = await npb_grpc.NotificationServiceStub(channel).Notify(
                npb.NotifyRequest(
                    user_id=str(user_id),
                    idempotency_key=f"authz-{uuid.uuid4()}",
                    type=npb.NOTIFICATION_TYPE_SYSTEM,
                    title="For Alice only",
                ),
                metadata=service_metadata(),
                timeout=5,
            )
            return reply.notification.id

    return stack.run(call())


async def _read(user, path: str) -> dict[str, Any]:
    response = await user.client.get(path)
    assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text}"
    return response.json()


async def _snapshot(alice, ids: dict[str, str]) -> dict[str, Any]:
    """What B must not be able to change (read as Alice)."""
    strategy = await _read(alice, f"/v1/strategies/{ids['strategy']}")
    backtest = await _read(alice, f"/v1/backtests/{ids['backtest']}")
    notifications = (await _read(alice, "/v1/notifications"))["notifications"]
    listing = await _read(alice, f"/v1/marketplace/strategies/{ids['listing']}")
    return {
        "strategy": {k: strategy[k] for k in ("status", "version", "config", "user_id")},
        "backtest": {k: backtest[k] for k in ("user_id", "spec")}
        | {"cancelled": backtest["status"] == "cancelled"},
        "notification": [n["id"] for n in notifications if n["id"] == ids["notification"]],
        "listing": {k: listing[k] for k in ("author_id", "name", "config", "source_strategy_id")},
    }


@pytest_asyncio.fixture(loop_scope="session")
async def alices_objects(new_user, stack) -> tuple[Any, AlicesObjects]:
    alice = await new_user()
    strategy = await alice.client.post("/v1/strategies", json={"config": dca_config()})
    assert strategy.status_code == 201, strategy.text
    strategy_id = strategy.json()["strategy_id"]
    end = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    backtest = await alice.client.post(
        "/v1/backtests",
        json={
            "strategy_id": strategy_id,
            "start_time": (end - dt.timedelta(days=20)).isoformat(),
            "end_time": end.isoformat(),
            "timeframe": "1h",
        },
    )
    assert backtest.status_code == 202, backtest.text
    listing = await alice.client.post(
        "/v1/marketplace/strategies", json={"strategy_id": strategy_id}
    )
    assert listing.status_code == 202, listing.text
    ids = {
        "strategy": strategy_id,
        "backtest": backtest.json()["backtest_id"],
        "notification": await _notify(stack, alice.id),
        "listing": listing.json()["community_strategy_id"],
    }
    return alice, AlicesObjects(ids, await _snapshot(alice, ids))


def _fill(path: str, resource_id: str) -> str:
    start, end = path.index("{"), path.index("}")
    return path[:start] + resource_id + path[end + 1 :]


@pytest.mark.parametrize(
    ("method", "path"), routes_with_path_parameters(), ids=lambda value: str(value)
)
async def test_route_when_user_b_uses_user_a_id_is_refused_and_changes_nothing(
    method, path, alices_objects, new_user
):
    case = CASES.get((method, path))
    assert case is not None, f"no object-authorization case for {method} {path}: add one"
    alice, objects = alices_objects
    bob = await new_user()
    url = _fill(path, objects.ids[case.resource])

    response = await bob.client.request(method, url, json=case.body, params=case.query)

    assert response.status_code in case.expected, (
        f"{method} {path}: B got {response.status_code} {response.text[:300]}"
    )
    if response.status_code == 404:
        assert response.json()["error"]["code"] == "not_found"
    assert await _snapshot(alice, objects.ids) == objects.snapshot, "B changed A's object"


def test_every_case_names_a_route_that_exists():
    routes = set(routes_with_path_parameters())
    stale = [key for key in CASES if key not in routes]
    assert not stale, f"cases for routes that no longer exist: {stale}"


def test_every_public_case_says_why():
    for key, case in CASES.items():
        assert (case.expected == {404}) != bool(case.why_public), key


# Routes that take an object id in the body or the query rather than the path.
BODY_AND_QUERY_CASES = {
    "submit a backtest of A's strategy": (
        "POST",
        "/v1/backtests",
        lambda ids: {"json": {"strategy_id": ids["strategy"], "timeframe": "1h"}},
    ),
    "publish A's strategy": (
        "POST",
        "/v1/marketplace/strategies",
        lambda ids: {"json": {"strategy_id": ids["strategy"]}},
    ),
    "preview a trade of A's strategy": (
        "POST",
        "/v1/risk/trade-preview",
        lambda ids: {
            "json": {
                "strategy_id": ids["strategy"],
                "order": {"symbol": "BTC/USD", "side": "buy", "notional": "10"},
                "price": "40000",
            }
        },
    ),
    "limits with A's strategy": (
        "GET",
        "/v1/risk/limits",
        lambda ids: {"params": {"strategy_id": ids["strategy"]}},
    ),
}


@pytest.mark.parametrize("case_name", sorted(BODY_AND_QUERY_CASES))
async def test_body_or_query_id_when_user_b_names_user_a_object_is_404(
    case_name, alices_objects, new_user
):
    alice, objects = alices_objects
    bob = await new_user()
    method, path, arguments = BODY_AND_QUERY_CASES[case_name]
    response = await bob.client.request(method, path, **arguments(objects.ids))
    assert response.status_code == 404, f"{case_name}: {response.status_code} {response.text}"
    assert await _snapshot(alice, objects.ids) == objects.snapshot


async def test_mark_read_when_user_b_names_user_a_notification_marks_nothing(
    alices_objects, new_user
):
    alice, objects = alices_objects
    bob = await new_user()
    response = await bob.client.post(
        "/v1/notifications/read", json={"notification_ids": [objects.ids["notification"]]}
    )
    assert response.status_code == 200, response.text
    assert response.json()["marked_count"] == 0
    mine = (await alice.client.get("/v1/notifications")).json()["notifications"]
    assert [n["read"] for n in mine if n["id"] == objects.ids["notification"]] == [False]


async def test_list_backtests_when_user_b_filters_by_user_a_strategy_is_empty(
    alices_objects, new_user
):
    _, objects = alices_objects
    bob = await new_user()
    response = await bob.client.get(
        "/v1/backtests", params={"strategy_id": objects.ids["strategy"]}
    )
    assert response.status_code == 200
    assert response.json()["backtests"] == []
