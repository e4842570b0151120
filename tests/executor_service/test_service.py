"""ExecutorService through the real gRPC server and database: CRUD, versions, lifecycle,
ownership, credentials."""

from __future__ import annotations

import asyncpg
import grpc
import pytest

from servicekit.errors import field_of, reason_of
from tests.executor_service.configs import dca_config, grid_config
from tests.testkit.services import service_metadata, user_metadata
from trading.executor.v1 import executor_service_pb2 as pb


async def create(stub, user, config=None):
    reply = await stub.CreateStrategy(
        pb.CreateStrategyRequest(user_id=str(user), config=config or dca_config()),
        metadata=user_metadata(user),
        timeout=5,
    )
    return reply.strategy


async def test_create_strategy_when_config_valid_stores_draft_version_one(stub, user_a):
    strategy = await create(stub, user_a, grid_config())
    assert strategy.status == pb.STRATEGY_STATUS_DRAFT
    assert strategy.version == 1
    assert strategy.broker == pb.BROKER_PAPER
    assert strategy.config.grid.upper_price == "2600"
    fetched = await stub.GetStrategy(
        pb.GetStrategyRequest(user_id=str(user_a), strategy_id=strategy.strategy_id),
        metadata=user_metadata(user_a),
        timeout=5,
    )
    assert fetched.strategy.config == strategy.config


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda c: c.grid.ClearField("upper_price"), "config.grid.upper_price"),
        (lambda c: setattr(c.grid, "lower_price", "2700"), "config.grid.lower_price"),
        (lambda c: setattr(c, "base_symbol", "not a symbol"), "config.base_symbol"),
        (
            lambda c: setattr(c.capital_allocation, "allocated_capital", "abc"),
            "config.capital_allocation.allocated_capital",
        ),
    ],
)
async def test_create_strategy_when_field_invalid_names_field(stub, user_a, mutate, field):
    config = grid_config()
    mutate(config)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await create(stub, user_a, config)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_of(caught.value) == field


async def test_update_strategy_when_version_matches_increments_version(stub, user_a):
    strategy = await create(stub, user_a)
    config = dca_config(name="renamed")
    reply = await stub.UpdateStrategy(
        pb.UpdateStrategyRequest(
            user_id=str(user_a), strategy_id=strategy.strategy_id, config=config, expected_version=1
        ),
        metadata=user_metadata(user_a),
        timeout=5,
    )
    assert (reply.strategy.version, reply.strategy.config.name) == (2, "renamed")


async def test_update_strategy_when_version_stale_is_aborted(stub, user_a):
    strategy = await create(stub, user_a)
    request = pb.UpdateStrategyRequest(
        user_id=str(user_a),
        strategy_id=strategy.strategy_id,
        config=dca_config(name="first"),
        expected_version=1,
    )
    await stub.UpdateStrategy(request, metadata=user_metadata(user_a), timeout=5)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.UpdateStrategy(request, metadata=user_metadata(user_a), timeout=5)
    assert caught.value.code() == grpc.StatusCode.ABORTED
    assert reason_of(caught.value) == "VERSION_MISMATCH"


async def test_get_strategy_when_other_users_is_not_found_or_denied(stub, user_a, user_b):
    strategy = await create(stub, user_a)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetStrategy(
            pb.GetStrategyRequest(user_id=str(user_b), strategy_id=strategy.strategy_id),
            metadata=user_metadata(user_b),
            timeout=5,
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetStrategy(
            pb.GetStrategyRequest(user_id=str(user_a), strategy_id=strategy.strategy_id),
            metadata=user_metadata(user_b),
            timeout=5,
        )
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_list_strategies_when_paged_returns_each_once_newest_first(stub, user_a, user_b):
    created = [await create(stub, user_a, dca_config(name=f"s{i}")) for i in range(5)]
    await create(stub, user_b)
    seen, cursor = [], ""
    while True:
        reply = await stub.ListStrategies(
            pb.ListStrategiesRequest(user_id=str(user_a), page={"limit": 2, "cursor": cursor}),
            metadata=user_metadata(user_a),
            timeout=5,
        )
        seen += [s.strategy_id for s in reply.strategies]
        cursor = reply.next_cursor
        if not cursor:
            break
    assert seen == [s.strategy_id for s in reversed(created)]


async def test_lifecycle_when_user_drives_it_records_every_transition(stub, user_a, fake_risk):
    strategy = await create(stub, user_a)
    ids = {"user_id": str(user_a), "strategy_id": strategy.strategy_id}
    meta = user_metadata(user_a)
    active = (
        await stub.ActivateStrategy(pb.ActivateStrategyRequest(**ids), metadata=meta, timeout=5)
    ).strategy
    assert active.status == pb.STRATEGY_STATUS_ACTIVE and active.risk_score == "42.5"
    await stub.PauseStrategy(
        pb.PauseStrategyRequest(**ids, reason="lunch"), metadata=meta, timeout=5
    )
    await stub.ResumeStrategy(pb.ResumeStrategyRequest(**ids), metadata=meta, timeout=5)
    stopped = (
        await stub.StopStrategy(pb.StopStrategyRequest(**ids), metadata=meta, timeout=5)
    ).strategy
    assert stopped.status == pb.STRATEGY_STATUS_STOPPED
    transitions = (
        await stub.ListStrategyTransitions(
            pb.ListStrategyTransitionsRequest(**ids), metadata=meta, timeout=5
        )
    ).transitions
    assert [(t.from_status, t.to_status) for t in transitions] == [
        (pb.STRATEGY_STATUS_DRAFT, pb.STRATEGY_STATUS_ACTIVE),
        (pb.STRATEGY_STATUS_ACTIVE, pb.STRATEGY_STATUS_PAUSED),
        (pb.STRATEGY_STATUS_PAUSED, pb.STRATEGY_STATUS_ACTIVE),
        (pb.STRATEGY_STATUS_ACTIVE, pb.STRATEGY_STATUS_STOPPED),
    ]
    assert transitions[1].reason == "lunch"
    assert {t.actor for t in transitions} == {pb.TRANSITION_ACTOR_USER}


async def test_resume_strategy_when_draft_is_failed_precondition(stub, user_a):
    strategy = await create(stub, user_a)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ResumeStrategy(
            pb.ResumeStrategyRequest(user_id=str(user_a), strategy_id=strategy.strategy_id),
            metadata=user_metadata(user_a),
            timeout=5,
        )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_activate_strategy_when_config_exceeds_tier_names_field(stub, user_a, fake_risk):
    fake_risk.max_positions = "3"
    config = grid_config()  # max_positions 5
    strategy = await create(stub, user_a, config)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ActivateStrategy(
            pb.ActivateStrategyRequest(user_id=str(user_a), strategy_id=strategy.strategy_id),
            metadata=user_metadata(user_a),
            timeout=5,
        )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason_of(caught.value) == "TIER_LIMIT_EXCEEDED"
    assert field_of(caught.value) == "config.position_sizing.max_positions"


async def test_activate_strategy_when_risk_down_is_unavailable_and_stays_draft(
    stub, user_a, fake_risk
):
    fake_risk.down = True
    strategy = await create(stub, user_a)
    ids = {"user_id": str(user_a), "strategy_id": strategy.strategy_id}
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ActivateStrategy(
            pb.ActivateStrategyRequest(**ids), metadata=user_metadata(user_a), timeout=10
        )
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    fetched = await stub.GetStrategy(
        pb.GetStrategyRequest(**ids), metadata=user_metadata(user_a), timeout=5
    )
    assert fetched.strategy.status == pb.STRATEGY_STATUS_DRAFT


async def test_update_and_delete_when_active_are_refused(stub, user_a):
    strategy = await create(stub, user_a)
    ids = {"user_id": str(user_a), "strategy_id": strategy.strategy_id}
    meta = user_metadata(user_a)
    await stub.ActivateStrategy(pb.ActivateStrategyRequest(**ids), metadata=meta, timeout=5)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.DeleteStrategy(pb.DeleteStrategyRequest(**ids), metadata=meta, timeout=5)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    await stub.StopStrategy(pb.StopStrategyRequest(**ids), metadata=meta, timeout=5)
    await stub.DeleteStrategy(pb.DeleteStrategyRequest(**ids), metadata=meta, timeout=5)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetStrategy(pb.GetStrategyRequest(**ids), metadata=meta, timeout=5)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_set_broker_credentials_when_stored_are_encrypted_and_never_returned(
    stub, user_a, database
):
    reply = await stub.SetBrokerCredentials(
        pb.SetBrokerCredentialsRequest(
            user_id=str(user_a),
            broker=pb.BROKER_ALPACA,
            api_key_id="PKABCDEFGH12345678",
            api_secret="super-secret-value-xyz",
        ),
        metadata=user_metadata(user_a),
        timeout=5,
    )
    assert reply.api_key_id_hint == "5678"
    assert "super-secret" not in str(reply) and "PKABCDEFGH" not in str(reply)
    connection = await asyncpg.connect(database.admin_dsn)
    try:
        stored = await connection.fetchrow("select * from broker_credentials")
        assert b"super-secret" not in bytes(stored["api_secret_encrypted"])
        # A user (as PostgREST would run) cannot read the encrypted columns back.
        async with connection.transaction():
            await connection.execute(
                "select set_config('request.jwt.claims', $1, true),"
                " set_config('role', 'authenticated', true)",
                f'{{"sub": "{user_a}", "role": "authenticated"}}',
            )
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await connection.fetch("select api_secret_encrypted from broker_credentials")
    finally:
        await connection.close()


async def test_service_caller_when_naming_any_user_is_allowed(stub, user_a):
    reply = await stub.CreateStrategy(
        pb.CreateStrategyRequest(user_id=str(user_a), config=dca_config()),
        metadata=service_metadata(),
        timeout=5,
    )
    assert reply.strategy.user_id == str(user_a)


async def test_performance_summary_when_user_reads_sees_only_own(stub, user_a, user_b, database):
    mine = await create(stub, user_a)
    await create(stub, user_b)
    connection = await asyncpg.connect(database.admin_dsn)
    try:
        await connection.execute("refresh materialized view strategy_performance_summary")
        # The materialized view itself is not readable by users.
        async with connection.transaction():
            await connection.execute("set local role authenticated")
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await connection.fetch("select * from strategy_performance_summary")
    finally:
        await connection.close()
    reply = await stub.GetPerformanceSummary(
        pb.GetPerformanceSummaryRequest(user_id=str(user_a)),
        metadata=user_metadata(user_a),
        timeout=5,
    )
    assert [s.strategy_id for s in reply.summaries] == [mine.strategy_id]
