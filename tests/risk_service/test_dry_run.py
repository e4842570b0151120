"""ValidateTrade with dry_run (a preview) through the real gRPC server and database: it
answers exactly what a real validation would at that moment, rate limit and duplicate
client order id included, and changes nothing in the order ledger or the risk events."""

from __future__ import annotations

from tests.risk_service.conftest import STRATEGY_ID, trade_request, validate
from trading.risk.v1 import risk_service_pb2 as pb
from trading.types.v1 import types_pb2 as types

ONE_BOT = {"strategy_id": STRATEGY_ID}
THREE_PER_MINUTE = types.StrategyConfig(risk_controls=types.RiskControls(max_orders_per_minute=3))


async def _written(admin) -> dict[str, list]:
    """Every row the validation path can write, to compare before and after."""
    return {
        "approved": [
            tuple(r)
            for r in await admin.fetch(
                "select user_id, client_order_id, strategy_id, quantity, approved_at"
                " from risk_approved_orders order by client_order_id"
            )
        ],
        "counters": [
            tuple(r)
            for r in await admin.fetch(
                "select strategy_id, bucket, bucket_start, orders from risk_order_counters"
                " order by bucket, bucket_start"
            )
        ],
        "events": [
            tuple(r)
            for r in await admin.fetch("select id, event_type from risk_events order by id")
        ],
    }


def _answer(response: pb.ValidateTradeResponse) -> tuple:
    """What a validation decided, without the id of the event a real denial records."""
    return (
        response.allowed,
        response.reason_code,
        response.message,
        [(c.name, c.reason_code, c.outcome, c.message) for c in response.checks],
        response.max_allowed_quantity,
        response.reducing_only,
    )


def _limited(client_order_id: str | None = None, *, dry_run: bool = False):
    request = trade_request(
        config=THREE_PER_MINUTE, strategy=ONE_BOT, client_order_id=client_order_id
    )
    request.dry_run = dry_run
    return request


async def test_dry_run_when_at_the_rate_limit_answers_as_a_real_call_and_writes_nothing(
    stub, admin
):
    for _ in range(2):
        assert (await validate(stub, _limited())).allowed
    # One order of budget left: any number of previews see it, none spends it.
    before = await _written(admin)
    previews = [await validate(stub, _limited(dry_run=True)) for _ in range(5)]
    assert all(p.allowed for p in previews), [p.reason_code for p in previews]
    assert await _written(admin) == before
    last_real = await validate(stub, _limited())
    assert last_real.allowed
    assert _answer(previews[0]) == _answer(last_real)

    # The budget is spent: the preview is denied exactly as the real call, and records
    # no event where the real denial records one.
    before = await _written(admin)
    preview = await validate(stub, _limited(dry_run=True))
    assert not preview.allowed
    assert preview.reason_code == "RATE_LIMIT"
    assert preview.risk_event_id == ""
    assert await _written(admin) == before
    real = await validate(stub, _limited())
    assert _answer(preview) == _answer(real)
    assert real.risk_event_id
    after = await _written(admin)
    assert len(after["events"]) == len(before["events"]) + 1
    assert after["approved"] == before["approved"]


async def test_dry_run_when_client_order_id_was_approved_reports_the_duplicate(stub, admin):
    assert (await validate(stub, _limited("bot-1-0001"))).allowed
    before = await _written(admin)
    preview = await validate(stub, _limited("bot-1-0001", dry_run=True))
    assert not preview.allowed
    assert preview.reason_code == "DUPLICATE_CLIENT_ORDER_ID"
    assert await _written(admin) == before


async def test_dry_run_when_allowed_leaves_its_client_order_id_free(stub, admin):
    preview = await validate(stub, _limited("bot-1-0002", dry_run=True))
    assert preview.allowed
    assert await admin.fetchval("select count(*) from risk_approved_orders") == 0
    assert (await validate(stub, _limited("bot-1-0002"))).allowed


async def test_dry_run_when_a_rule_denies_explains_it_without_a_risk_event(stub, admin):
    preview = trade_request(quantity="100")
    preview.dry_run = True
    response = await validate(stub, preview)
    assert not response.allowed
    assert "Insufficient buying power" in response.message
    assert response.max_allowed_quantity == "16"
    assert response.risk_event_id == ""
    assert await admin.fetchval("select count(*) from risk_events") == 0
    assert await admin.fetchval("select count(*) from risk_approved_orders") == 0
    preview.dry_run = False
    preview.order.client_order_id += "-real"
    real = await validate(stub, preview)
    assert _answer(real) == _answer(response)
    assert await admin.fetchval("select count(*) from risk_events") == 1
