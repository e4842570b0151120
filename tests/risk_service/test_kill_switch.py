"""Kill switches: set and lifted through the API, effective on every replica at once,
and a user cannot touch the platform's or lift one a service set."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest

from servicekit.errors import field_of
from tests.risk_service.conftest import (
    DEMO_USER,
    STRATEGY_ID,
    FakeClock,
    risk_service,
    trade_request,
    validate,
    wait_until_listening,
)
from tests.testkit.services import channel_to, service_metadata, user_metadata
from trading.risk.v1 import risk_service_pb2 as pb
from trading.risk.v1 import risk_service_pb2_grpc as pb_grpc
from trading.types.v1 import types_pb2 as types

HALTED, REDUCING, OFF = (
    pb.KILL_SWITCH_MODE_HALTED,
    pb.KILL_SWITCH_MODE_REDUCING,
    pb.KILL_SWITCH_MODE_OFF,
)
HOLDING = [types.Position(symbol="AAPL", quantity="10", average_entry_price="140")]
ONE_BOT = {"strategy_id": STRATEGY_ID}


async def _switch(stub, metadata=None, **fields):
    request = pb.SetKillSwitchRequest(**fields)
    return await stub.SetKillSwitch(request, metadata=metadata or service_metadata(), timeout=5)


async def _until(stub, request, predicate, timeout: float = 1.0) -> pb.ValidateTradeResponse:
    """Validate until ``predicate`` holds or ``timeout`` passes; the last answer."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        request.order.client_order_id = f"poll-{uuid.uuid4().hex}"
        response = await validate(stub, request)
        if predicate(response) or loop.time() >= deadline:
            return response
        await asyncio.sleep(0.005)


async def test_kill_switch_set_on_one_replica_blocks_another_within_one_second(database):
    async with (
        risk_service(database, FakeClock()) as first,
        risk_service(database, FakeClock()) as second,
    ):
        await wait_until_listening(first)
        await wait_until_listening(second)
        first_channel, second_channel = channel_to(first), channel_to(second)
        first_stub = pb_grpc.RiskServiceStub(first_channel)
        second_stub = pb_grpc.RiskServiceStub(second_channel)
        try:
            # The second replica has the platform state cached before the switch is set.
            assert (await validate(second_stub, trade_request())).allowed
            await _switch(
                first_stub,
                scope=pb.KILL_SWITCH_SCOPE_PLATFORM,
                mode=HALTED,
                reason="exchange outage",
            )
            response = await _until(second_stub, trade_request(), lambda r: not r.allowed)
            assert not response.allowed, "the switch did not reach the other replica in 1 s"
            assert response.reason_code == "TRADING_STATE"
            assert "exchange outage" in response.message

            await _switch(first_stub, scope=pb.KILL_SWITCH_SCOPE_PLATFORM, mode=OFF)
            response = await _until(second_stub, trade_request(), lambda r: r.allowed)
            assert response.allowed
        finally:
            await first_channel.close()
            await second_channel.close()


async def test_user_kill_switch_reducing_lets_only_sells_pass(stub):
    await _switch(
        stub,
        user_metadata(DEMO_USER),
        scope=pb.KILL_SWITCH_SCOPE_USER,
        user_id=DEMO_USER,
        mode=REDUCING,
        reason="taking a break",
    )
    buy = await _until(stub, trade_request(), lambda r: not r.allowed)
    assert buy.reason_code == "TRADING_STATE"
    assert buy.reducing_only
    sell = await validate(stub, trade_request(side=types.SIDE_SELL, positions=HOLDING))
    assert sell.allowed


async def test_strategy_kill_switch_halts_only_that_strategy(stub):
    await _switch(
        stub,
        scope=pb.KILL_SWITCH_SCOPE_STRATEGY,
        user_id=DEMO_USER,
        strategy_id=STRATEGY_ID,
        mode=HALTED,
        reason="runaway bot",
    )
    halted = await _until(stub, trade_request(strategy=ONE_BOT), lambda r: not r.allowed)
    assert halted.reason_code == "TRADING_STATE"
    sell = await validate(
        stub, trade_request(side=types.SIDE_SELL, positions=HOLDING, strategy=ONE_BOT)
    )
    assert not sell.allowed  # HALTED: not even reducing orders
    assert (await validate(stub, trade_request())).allowed  # another strategy


async def test_kill_switch_set_and_cleared_is_listed_and_logged(stub, admin):
    await _switch(
        stub, scope=pb.KILL_SWITCH_SCOPE_USER, user_id=DEMO_USER, mode=HALTED, reason="ops"
    )
    listed = await stub.ListKillSwitches(
        pb.ListKillSwitchesRequest(user_id=DEMO_USER),
        metadata=user_metadata(DEMO_USER),
        timeout=5,
    )
    assert [(s.scope, s.mode, s.set_by_service) for s in listed.kill_switches] == [
        (pb.KILL_SWITCH_SCOPE_USER, HALTED, True)
    ]
    await _switch(stub, scope=pb.KILL_SWITCH_SCOPE_USER, user_id=DEMO_USER, mode=OFF)
    listed = await stub.ListKillSwitches(
        pb.ListKillSwitchesRequest(user_id=DEMO_USER), metadata=service_metadata(), timeout=5
    )
    assert list(listed.kill_switches) == []
    events = await admin.fetch("select event_type from risk_events order by created_at")
    assert [e["event_type"] for e in events] == ["kill_switch_set", "kill_switch_cleared"]


async def _expect(call, code, field):
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call
    assert raised.value.code() == code
    assert field_of(raised.value) == field


async def test_kill_switch_when_user_sets_platform_switch_is_denied(stub, user_a):
    await _expect(
        _switch(
            stub,
            user_metadata(user_a),
            scope=pb.KILL_SWITCH_SCOPE_PLATFORM,
            mode=HALTED,
            reason="mine",
        ),
        grpc.StatusCode.PERMISSION_DENIED,
        "scope",
    )


async def test_kill_switch_when_user_lifts_a_service_switch_is_denied(stub):
    await _switch(
        stub, scope=pb.KILL_SWITCH_SCOPE_USER, user_id=DEMO_USER, mode=HALTED, reason="fraud"
    )
    await _expect(
        _switch(
            stub,
            user_metadata(DEMO_USER),
            scope=pb.KILL_SWITCH_SCOPE_USER,
            user_id=DEMO_USER,
            mode=OFF,
        ),
        grpc.StatusCode.PERMISSION_DENIED,
        "scope",
    )


async def test_kill_switch_when_user_names_another_user_is_denied(stub, user_a):
    await _expect(
        _switch(
            stub,
            user_metadata(user_a),
            scope=pb.KILL_SWITCH_SCOPE_USER,
            user_id=DEMO_USER,
            mode=HALTED,
            reason="prank",
        ),
        grpc.StatusCode.PERMISSION_DENIED,
        "user_id",
    )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"scope": 0, "mode": HALTED, "reason": "x"}, "scope"),
        (
            {"scope": pb.KILL_SWITCH_SCOPE_USER, "user_id": DEMO_USER, "mode": 0, "reason": "x"},
            "mode",
        ),
        ({"scope": pb.KILL_SWITCH_SCOPE_USER, "user_id": DEMO_USER, "mode": HALTED}, "reason"),
        (
            {
                "scope": pb.KILL_SWITCH_SCOPE_STRATEGY,
                "user_id": DEMO_USER,
                "mode": HALTED,
                "reason": "x",
            },
            "strategy_id",
        ),
        (
            {
                "scope": pb.KILL_SWITCH_SCOPE_PLATFORM,
                "user_id": DEMO_USER,
                "mode": HALTED,
                "reason": "x",
            },
            "user_id",
        ),
        (
            {
                "scope": pb.KILL_SWITCH_SCOPE_STRATEGY,
                "user_id": DEMO_USER,
                "strategy_id": "x",
                "mode": HALTED,
                "reason": "x",
            },
            "strategy_id",
        ),
    ],
)
async def test_kill_switch_when_malformed_names_the_field(shared_stub, fields, field):
    await _expect(_switch(shared_stub, **fields), grpc.StatusCode.INVALID_ARGUMENT, field)
