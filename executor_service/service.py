"""ExecutorService: protobuf <-> domain, and nothing else.

Every method authorizes the user it acts for (servicekit.auth), parses ids and decimals
into domain values (INVALID_ARGUMENT naming the field), and calls the stores, the
activation checks or the risk gateway. Secrets never leave: SetBrokerCredentials answers
with the key id's last four characters only.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp

from executor_service import config_codec
from executor_service.activation import check_against_limits
from executor_service.brokers.directory import BrokerDirectory, BrokerNotConfigured
from executor_service.credentials import CredentialCipher, validate_keys
from executor_service.ledger import OrderRow
from executor_service.lifecycle import Action, Actor, Status
from executor_service.pagination import decode_cursor, encode_cursor, page_size
from executor_service.reports import CredentialStore, ReportStore
from executor_service.risk_gateway import RiskGateway, RiskUnreachable
from executor_service.store import StrategyRow, StrategyStore
from servicekit.auth import authorize_user
from servicekit.errors import FailedPrecondition, InvalidArgument, Unavailable
from servicekit.money import format_decimal
from trading.executor.v1 import executor_service_pb2 as pb
from trading.executor.v1 import executor_service_pb2_grpc as pb_grpc
from trading.types.v1 import types_pb2 as tpb

log = logging.getLogger("executor_service.service")

_BROKERS = {pb.BROKER_UNSPECIFIED: "paper", pb.BROKER_PAPER: "paper", pb.BROKER_ALPACA: "alpaca"}
_BROKER_ENUM = {"paper": pb.BROKER_PAPER, "alpaca": pb.BROKER_ALPACA}


def parse_uuid(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        raise InvalidArgument(field, "must be a UUID") from None


def optional_uuid(value: str, field: str) -> uuid.UUID | None:
    return parse_uuid(value, field) if value else None


def timestamp(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def status_enum(status: Status | str) -> pb.StrategyStatus.ValueType:
    return pb.StrategyStatus.Value(f"STRATEGY_STATUS_{str(status).upper()}")


def status_from_enum(value: int) -> Status | None:
    if value == pb.STRATEGY_STATUS_UNSPECIFIED:
        return None
    try:
        name = pb.StrategyStatus.Name(pb.StrategyStatus.ValueType(value))
        return Status(name.removeprefix("STRATEGY_STATUS_").lower())
    except ValueError:
        raise InvalidArgument("status", "is not a known status") from None


def strategy_message(row: StrategyRow) -> pb.Strategy:
    return pb.Strategy(
        strategy_id=str(row.id),
        user_id=str(row.user_id),
        config=config_codec.proto_of(row.config),
        status=status_enum(row.status),
        status_reason=row.status_reason,
        version=row.version,
        risk_score=format_decimal(row.risk_score),
        broker=_BROKER_ENUM[row.broker],
        live=row.live,
        created_at=timestamp(row.created_at),
        updated_at=timestamp(row.updated_at),
    )


def order_message(row: OrderRow) -> pb.BotOrder:
    return pb.BotOrder(
        order_id=str(row.id),
        strategy_id=str(row.strategy_id),
        order=tpb.Order(
            client_order_id=row.client_order_id,
            symbol=row.symbol,
            side=tpb.SIDE_BUY if row.side == "buy" else tpb.SIDE_SELL,
            order_type=tpb.OrderType.Value(f"ORDER_TYPE_{row.order_type.upper()}"),
            time_in_force=tpb.TimeInForce.Value(f"TIME_IN_FORCE_{row.time_in_force.upper()}"),
            quantity=format_decimal(row.quantity),
            limit_price=format_decimal(row.limit_price),
            stop_price=format_decimal(row.stop_price),
        ),
        status=pb.OrderStatus.Value(f"ORDER_STATUS_{row.status.value.upper()}"),
        filled_quantity=format_decimal(row.filled_qty),
        average_fill_price=format_decimal(row.avg_fill_price),
        broker_order_id=row.broker_order_id or "",
        reject_reason=row.reject_reason,
        bar_time=timestamp(row.bar_at),
        created_at=timestamp(row.created_at),
        updated_at=timestamp(row.updated_at),
    )


class ExecutorServicer(pb_grpc.ExecutorServiceServicer):
    def __init__(
        self,
        strategies: StrategyStore,
        reports: ReportStore,
        credentials: CredentialStore,
        cipher: CredentialCipher,
        risk: RiskGateway,
        brokers: BrokerDirectory,
        *,
        alpaca_live_enabled: bool = False,
    ):
        self._strategies = strategies
        self._reports = reports
        self._credentials = credentials
        self._cipher = cipher
        self._risk = risk
        self._brokers = brokers
        self._alpaca_live_enabled = alpaca_live_enabled

    # -- strategies -------------------------------------------------------------------

    async def CreateStrategy(self, request, context):
        user_id = authorize_user(request.user_id)
        new = config_codec.validated_strategy(request.config)
        broker = _BROKERS.get(request.broker)
        if broker is None:
            raise InvalidArgument("broker", "is not a known broker")
        if request.live and broker == "paper":
            raise InvalidArgument("live", "the paper exchange has no live mode")
        if request.live and not self._alpaca_live_enabled:
            raise FailedPrecondition(
                "live trading is not enabled on this deployment (EXECUTOR_ALPACA_LIVE_ENABLED)",
                field="live",
                reason="LIVE_TRADING_DISABLED",
            )
        row = await self._strategies.create(
            user_id, config_codec.with_broker(new, broker, request.live)
        )
        return pb.CreateStrategyResponse(strategy=strategy_message(row))

    async def GetStrategy(self, request, context):
        user_id = authorize_user(request.user_id)
        row = await self._strategies.get(user_id, parse_uuid(request.strategy_id, "strategy_id"))
        return pb.GetStrategyResponse(strategy=strategy_message(row))

    async def ListStrategies(self, request, context):
        user_id = authorize_user(request.user_id)
        limit = page_size(request.page.limit)
        rows = await self._strategies.list(
            user_id,
            status=status_from_enum(request.status),
            limit=limit + 1,
            after=decode_cursor(request.page.cursor),
        )
        next_cursor = ""
        if len(rows) > limit:
            rows = rows[:limit]
            next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id)
        return pb.ListStrategiesResponse(
            strategies=[strategy_message(row) for row in rows], next_cursor=next_cursor
        )

    async def UpdateStrategy(self, request, context):
        user_id = authorize_user(request.user_id)
        strategy_id = parse_uuid(request.strategy_id, "strategy_id")
        if request.expected_version < 1:
            raise InvalidArgument("expected_version", "is required (the version you edited)")
        new = config_codec.validated_strategy(request.config)
        row = await self._strategies.update_config(
            user_id, strategy_id, new, request.expected_version
        )
        return pb.UpdateStrategyResponse(strategy=strategy_message(row))

    async def DeleteStrategy(self, request, context):
        user_id = authorize_user(request.user_id)
        await self._strategies.delete(user_id, parse_uuid(request.strategy_id, "strategy_id"))
        return pb.DeleteStrategyResponse()

    # -- lifecycle --------------------------------------------------------------------

    async def ActivateStrategy(self, request, context):
        user_id = authorize_user(request.user_id)
        strategy_id = parse_uuid(request.strategy_id, "strategy_id")
        row = await self._strategies.get(user_id, strategy_id)
        if row.status == Status.ACTIVE:
            return pb.ActivateStrategyResponse(strategy=strategy_message(row))
        if row.broker == "alpaca":
            try:
                await self._brokers.alpaca_keys(user_id)
            except BrokerNotConfigured as error:
                raise FailedPrecondition(
                    f"cannot trade through Alpaca: {error}",
                    field="broker",
                    reason="BROKER_NOT_AVAILABLE",
                ) from None
        config = strategy_message(row).config
        try:
            check_against_limits(config, await self._risk.effective_limits(user_id, config))
            if row.live and await self._risk.paper_mode(user_id):
                raise FailedPrecondition(
                    "your profile is in paper mode: a live strategy cannot be activated",
                    field="live",
                    reason="PROFILE_IN_PAPER_MODE",
                )
            score = await self._risk.risk_score(config)
        except RiskUnreachable as error:
            raise Unavailable(f"cannot activate: {error}", reason="RISK_UNAVAILABLE") from None
        row = await self._strategies.transition(
            user_id,
            strategy_id,
            Action.ACTIVATE,
            Actor.USER,
            "activated by the user",
            risk_score=score,
            expected_status=row.status,
        )
        return pb.ActivateStrategyResponse(strategy=strategy_message(row))

    async def _user_transition(self, request, action: Action, default_reason: str) -> StrategyRow:
        user_id = authorize_user(request.user_id)
        strategy_id = parse_uuid(request.strategy_id, "strategy_id")
        await self._strategies.get(user_id, strategy_id)  # ownership under RLS
        reason = getattr(request, "reason", "") or default_reason
        if len(reason) > 500:
            raise InvalidArgument("reason", "must be at most 500 characters")
        return await self._strategies.transition(user_id, strategy_id, action, Actor.USER, reason)

    async def PauseStrategy(self, request, context):
        row = await self._user_transition(request, Action.PAUSE, "paused by the user")
        return pb.PauseStrategyResponse(strategy=strategy_message(row))

    async def ResumeStrategy(self, request, context):
        row = await self._user_transition(request, Action.RESUME, "resumed by the user")
        return pb.ResumeStrategyResponse(strategy=strategy_message(row))

    async def StopStrategy(self, request, context):
        row = await self._user_transition(request, Action.STOP, "stopped by the user")
        return pb.StopStrategyResponse(strategy=strategy_message(row))

    async def ListStrategyTransitions(self, request, context):
        user_id = authorize_user(request.user_id)
        rows = await self._strategies.transitions(
            user_id, parse_uuid(request.strategy_id, "strategy_id")
        )
        return pb.ListStrategyTransitionsResponse(
            transitions=[
                pb.StrategyTransition(
                    strategy_id=str(row.strategy_id),
                    from_status=status_enum(row.from_status),
                    to_status=status_enum(row.to_status),
                    actor=pb.TransitionActor.Value(f"TRANSITION_ACTOR_{row.actor.value.upper()}"),
                    reason=row.reason,
                    created_at=timestamp(row.created_at),
                )
                for row in rows
            ]
        )

    # -- ledger -----------------------------------------------------------------------

    async def ListOrders(self, request, context):
        user_id = authorize_user(request.user_id)
        limit = page_size(request.page.limit)
        rows = await self._reports.orders(
            user_id,
            optional_uuid(request.strategy_id, "strategy_id"),
            limit + 1,
            decode_cursor(request.page.cursor),
        )
        next_cursor = ""
        if len(rows) > limit:
            rows = rows[:limit]
            next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id)
        return pb.ListOrdersResponse(
            orders=[order_message(row) for row in rows], next_cursor=next_cursor
        )

    async def ListPositions(self, request, context):
        user_id = authorize_user(request.user_id)
        rows = await self._reports.positions(
            user_id, optional_uuid(request.strategy_id, "strategy_id")
        )
        positions = []
        for row in rows:
            market = row["market_price"]
            unrealized = (market - row["average_entry_price"]) * row["quantity"] if market else None
            positions.append(
                pb.StrategyPosition(
                    strategy_id=str(row["strategy_id"]),
                    position=tpb.Position(
                        symbol=row["symbol"],
                        quantity=format_decimal(row["quantity"]),
                        average_entry_price=format_decimal(row["average_entry_price"]),
                        market_price=format_decimal(market),
                        unrealized_pnl=format_decimal(unrealized),
                        realized_pnl=format_decimal(row["realized_pnl"]),
                    ),
                )
            )
        return pb.ListPositionsResponse(positions=positions)

    async def GetPerformanceSummary(self, request, context):
        user_id = authorize_user(request.user_id)
        rows = await self._reports.performance(
            user_id, optional_uuid(request.strategy_id, "strategy_id")
        )
        return pb.GetPerformanceSummaryResponse(
            summaries=[
                pb.PerformanceSummary(
                    strategy_id=str(row["strategy_id"]),
                    strategy_name=row["strategy_name"],
                    status=status_enum(row["status"]),
                    risk_score=format_decimal(row["risk_score"]),
                    open_positions_count=row["open_positions_count"],
                    unrealized_pnl=format_decimal(row["unrealized_pnl"]),
                    realized_pnl=format_decimal(row["realized_pnl"]),
                    total_fees=format_decimal(row["total_fees"]),
                    orders_count=row["orders_count"],
                    fills_count=row["fills_count"],
                    refreshed_at=timestamp(row["refreshed_at"]),
                )
                for row in rows
            ]
        )

    # -- credentials ------------------------------------------------------------------

    async def SetBrokerCredentials(self, request, context):
        user_id = authorize_user(request.user_id)
        if request.broker != pb.BROKER_ALPACA:
            raise InvalidArgument("broker", "only BROKER_ALPACA takes credentials")
        keys = validate_keys(request.api_key_id, request.api_secret)
        key_token, secret_token = self._cipher.encrypt(keys)
        updated_at = await self._credentials.save(
            user_id, "alpaca", key_token, secret_token, keys.hint
        )
        log.info("broker credentials stored for user %s (key ...%s)", user_id, keys.hint)
        return pb.SetBrokerCredentialsResponse(
            broker=pb.BROKER_ALPACA, api_key_id_hint=keys.hint, updated_at=timestamp(updated_at)
        )
