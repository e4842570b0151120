"""The risk profile (tier only by a service) and the effective limits with sources."""

from __future__ import annotations

import asyncpg
import grpc
import pytest

from servicekit.db.rls import user_transaction
from servicekit.errors import field_of
from tests.risk_service.conftest import DEMO_USER, trade_request, validate
from tests.testkit.services import service_metadata, user_metadata
from trading.risk.v1 import risk_service_pb2 as pb
from trading.types.v1 import types_pb2 as types


async def test_get_profile_when_demo_user_is_pro_medium_paper(stub):
    reply = await stub.GetProfile(
        pb.GetProfileRequest(user_id=DEMO_USER), metadata=user_metadata(DEMO_USER), timeout=5
    )
    profile = reply.profile
    assert profile.tier == types.SUBSCRIPTION_TIER_PRO
    assert profile.risk_tolerance == types.RISK_TOLERANCE_MEDIUM
    assert profile.paper_mode


async def test_get_profile_when_new_user_has_the_defaults(stub, user_a):
    reply = await stub.GetProfile(
        pb.GetProfileRequest(user_id=str(user_a)), metadata=user_metadata(user_a), timeout=5
    )
    assert reply.profile.tier == types.SUBSCRIPTION_TIER_STARTER
    assert reply.profile.paper_mode


async def test_update_profile_when_user_changes_tolerance_and_paper_mode_applies(stub, admin):
    reply = await stub.UpdateProfile(
        pb.UpdateProfileRequest(
            user_id=DEMO_USER,
            risk_tolerance=types.RISK_TOLERANCE_CONSERVATIVE,
            paper_mode=False,
        ),
        metadata=user_metadata(DEMO_USER),
        timeout=5,
    )
    assert reply.profile.risk_tolerance == types.RISK_TOLERANCE_CONSERVATIVE
    assert not reply.profile.paper_mode
    assert reply.profile.tier == types.SUBSCRIPTION_TIER_PRO
    assert (
        await admin.fetchval(
            "select count(*) from risk_events where event_type = 'profile_changed'"
        )
        == 1
    )
    # Conservative: 10% of equity per position; live orders now allowed.
    response = await validate(stub, trade_request(broker_mode=pb.BROKER_MODE_LIVE))
    for _ in range(100):
        if response.reason_code == "POSITION_SIZE_EXCEEDS_PCT_EQUITY":
            break
        response = await validate(stub, trade_request(broker_mode=pb.BROKER_MODE_LIVE))
    assert response.reason_code == "POSITION_SIZE_EXCEEDS_PCT_EQUITY"


async def test_update_profile_when_user_sets_tier_is_denied(stub, admin):
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.UpdateProfile(
            pb.UpdateProfileRequest(user_id=DEMO_USER, tier=types.SUBSCRIPTION_TIER_ELITE),
            metadata=user_metadata(DEMO_USER),
            timeout=5,
        )
    assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert field_of(raised.value) == "tier"
    assert (
        await admin.fetchval(
            "select subscription_tier from user_profiles where id = $1::uuid", DEMO_USER
        )
        == "pro"
    )


async def test_update_profile_when_service_sets_tier_applies(stub):
    reply = await stub.UpdateProfile(
        pb.UpdateProfileRequest(user_id=DEMO_USER, tier=types.SUBSCRIPTION_TIER_ELITE),
        metadata=service_metadata(),
        timeout=5,
    )
    assert reply.profile.tier == types.SUBSCRIPTION_TIER_ELITE


async def test_update_profile_when_unknown_enum_names_the_field(shared_stub):
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await shared_stub.UpdateProfile(
            pb.UpdateProfileRequest(user_id=DEMO_USER, risk_tolerance=17),
            metadata=service_metadata(),
            timeout=5,
        )
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_of(raised.value) == "risk_tolerance"


async def test_profile_when_user_names_another_user_is_denied(shared_stub, user_a):
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await shared_stub.GetProfile(
            pb.GetProfileRequest(user_id=DEMO_USER), metadata=user_metadata(user_a), timeout=5
        )
    assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_database_refuses_a_user_writing_their_own_tier(database):
    pool = await asyncpg.create_pool(database.dsn_for("risk_service"), min_size=1, max_size=1)
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with user_transaction(pool, DEMO_USER) as conn:
                await conn.execute(
                    "update user_profiles set subscription_tier = 'elite' where id = $1::uuid",
                    DEMO_USER,
                )
    finally:
        await pool.close()


def _limits(reply) -> dict[str, pb.EffectiveLimit]:
    return {limit.name: limit for limit in reply.limits}


async def test_effective_limits_explain_their_source(shared_stub):
    reply = await shared_stub.GetEffectiveLimits(
        pb.GetEffectiveLimitsRequest(user_id=DEMO_USER),
        metadata=user_metadata(DEMO_USER),
        timeout=5,
    )
    limits = _limits(reply)
    assert reply.tier == types.SUBSCRIPTION_TIER_PRO
    assert (limits["max_notional_per_order"].value, limits["max_notional_per_order"].source) == (
        "100000",
        pb.LIMIT_SOURCE_TIER,
    )
    assert (limits["max_position_pct_equity"].value, limits["max_position_pct_equity"].source) == (
        "25",
        pb.LIMIT_SOURCE_RISK_TOLERANCE,
    )
    assert limits["max_daily_loss_usd"].source == pb.LIMIT_SOURCE_PLATFORM
    assert [c.source for c in limits["max_notional_per_order"].candidates] == [
        pb.LIMIT_SOURCE_PLATFORM,
        pb.LIMIT_SOURCE_TIER,
    ]


async def test_effective_limits_when_strategy_is_stricter_name_the_strategy(shared_stub):
    config = types.StrategyConfig(
        capital_allocation=types.CapitalAllocation(max_capital_per_trade="500"),
        risk_controls=types.RiskControls(max_orders_per_minute=5),
    )
    reply = await shared_stub.GetEffectiveLimits(
        pb.GetEffectiveLimitsRequest(user_id=DEMO_USER, strategy_config=config),
        metadata=service_metadata(),
        timeout=5,
    )
    limits = _limits(reply)
    assert (limits["max_notional_per_order"].value, limits["max_notional_per_order"].source) == (
        "500",
        pb.LIMIT_SOURCE_STRATEGY,
    )
    assert limits["max_orders_per_minute"].source == pb.LIMIT_SOURCE_STRATEGY
