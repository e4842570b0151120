"""Request and response models of the HTTP API.

Responses mirror the protobuf messages (see ``gateway.proto_models``): money, prices and
quantities are decimal strings. Requests are explicit about what a user may set: fields
a user must not set (user or owner ids, tier, verified flag, ratings average, status,
risk score, version counters) are not in any input model, and because every input model
refuses unknown fields, sending one is a 400 naming it — never silently applied.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from gateway.proto_models import enum_type, input_model, output_model
from trading.backtest.v1 import backtest_service_pb2 as backtest_pb
from trading.executor.v1 import executor_service_pb2 as executor_pb
from trading.notification.v1 import notification_service_pb2 as notification_pb
from trading.risk.v1 import risk_service_pb2 as risk_pb
from trading.types.v1 import types_pb2

Decimal = Annotated[
    str,
    Field(
        pattern=r"^-?\d{1,20}(\.\d{1,18})?$",
        examples=["42000.50"],
        description="A decimal number as a string (never a float).",
    ),
]
PositiveDecimal = Annotated[str, Field(pattern=r"^\d{1,20}(\.\d{1,18})?$", examples=["0.5"])]


class Input(BaseModel):
    """Base of request bodies: unknown fields are refused (mass assignment)."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True)


# --- responses, derived from the protos -------------------------------------------------

Strategy = output_model(executor_pb.Strategy.DESCRIPTOR)
StrategyPage = output_model(executor_pb.ListStrategiesResponse.DESCRIPTOR, name="StrategyPage")
StrategyTransitions = output_model(
    executor_pb.ListStrategyTransitionsResponse.DESCRIPTOR, name="StrategyTransitions"
)
OrderPage = output_model(executor_pb.ListOrdersResponse.DESCRIPTOR, name="OrderPage")
Positions = output_model(executor_pb.ListPositionsResponse.DESCRIPTOR, name="Positions")
PerformanceSummaries = output_model(
    executor_pb.GetPerformanceSummaryResponse.DESCRIPTOR, name="PerformanceSummaries"
)
BrokerCredentialsSet = output_model(
    executor_pb.SetBrokerCredentialsResponse.DESCRIPTOR, name="BrokerCredentialsSet"
)

Backtest = output_model(backtest_pb.Backtest.DESCRIPTOR)
BacktestPage = output_model(backtest_pb.ListBacktestsResponse.DESCRIPTOR, name="BacktestPage")
CommunityStrategy = output_model(backtest_pb.CommunityStrategy.DESCRIPTOR)
CommunityStrategyPage = output_model(
    backtest_pb.ListCommunityStrategiesResponse.DESCRIPTOR, name="CommunityStrategyPage"
)
RatingSummary = output_model(backtest_pb.RateStrategyResponse.DESCRIPTOR, name="RatingSummary")

Notification = output_model(notification_pb.Notification.DESCRIPTOR)
NotificationPage = output_model(
    notification_pb.ListNotificationsResponse.DESCRIPTOR, name="NotificationPage"
)
UnreadCount = output_model(notification_pb.GetUnreadCountResponse.DESCRIPTOR, name="UnreadCount")
MarkReadResult = output_model(notification_pb.MarkReadResponse.DESCRIPTOR, name="MarkReadResult")
# The webhook secret is write-only: it is not part of any response.
NotificationPreferences = output_model(
    notification_pb.NotificationPreferences.DESCRIPTOR, exclude={"webhook_secret"}
)

Profile = output_model(risk_pb.Profile.DESCRIPTOR)
EffectiveLimits = output_model(
    risk_pb.GetEffectiveLimitsResponse.DESCRIPTOR, name="EffectiveLimits"
)
RiskScore = output_model(risk_pb.CalculateRiskScoreResponse.DESCRIPTOR, name="RiskScore")
TradePreview = output_model(risk_pb.ValidateTradeResponse.DESCRIPTOR, name="TradePreview")
KillSwitches = output_model(risk_pb.ListKillSwitchesResponse.DESCRIPTOR, name="KillSwitches")
KillSwitchState = output_model(risk_pb.SetKillSwitchResponse.DESCRIPTOR, name="KillSwitchState")


# --- requests ---------------------------------------------------------------------------

StrategyConfigInput = input_model(types_pb2.StrategyConfig.DESCRIPTOR)
ExecutionSettingsInput = input_model(backtest_pb.ExecutionSettings.DESCRIPTOR)
BrokerChoice = enum_type(executor_pb.Broker.DESCRIPTOR, with_unspecified=False)
StrategyStatusChoice = enum_type(executor_pb.StrategyStatus.DESCRIPTOR, with_unspecified=False)
RiskToleranceChoice = enum_type(types_pb2.RiskTolerance.DESCRIPTOR, with_unspecified=False)
TimeframeChoice = enum_type(types_pb2.Timeframe.DESCRIPTOR, with_unspecified=False)
DataSourceChoice = enum_type(backtest_pb.DataSource.DESCRIPTOR, with_unspecified=False)
CommunitySortChoice = enum_type(backtest_pb.CommunitySort.DESCRIPTOR, with_unspecified=False)
StrategyTypeChoice = enum_type(types_pb2.StrategyType.DESCRIPTOR, with_unspecified=False)
NotificationTypeChoice = enum_type(
    notification_pb.NotificationType.DESCRIPTOR, with_unspecified=False
)
ChannelChoice = enum_type(notification_pb.Channel.DESCRIPTOR, with_unspecified=False)
SideChoice = enum_type(types_pb2.Side.DESCRIPTOR, with_unspecified=False)
OrderTypeChoice = enum_type(types_pb2.OrderType.DESCRIPTOR, with_unspecified=False)
TimeInForceChoice = enum_type(types_pb2.TimeInForce.DESCRIPTOR, with_unspecified=False)
KillSwitchModeChoice = enum_type(risk_pb.KillSwitchMode.DESCRIPTOR, with_unspecified=False)

Limit = Annotated[int, Field(ge=1, le=200, description="Page size.")]
Cursor = Annotated[str, Field(max_length=512, description="next_cursor of the previous page.")]
Reason = Annotated[str, Field(max_length=500)]


class StrategyCreate(Input):
    """A new strategy (created as a draft). Owner, status, version and score are not set here."""

    config: StrategyConfigInput  # type: ignore[valid-type]
    broker: BrokerChoice | None = None  # type: ignore[valid-type]
    live: bool = False


class StrategyUpdate(Input):
    """The whole new config, with the version it was read at (409 if it changed since)."""

    config: StrategyConfigInput  # type: ignore[valid-type]
    expected_version: int = Field(ge=1, le=2**62)


class LifecycleReason(Input):
    reason: Reason = ""


class BrokerCredentialsUpdate(Input):
    broker: BrokerChoice  # type: ignore[valid-type]
    api_key_id: str = Field(min_length=1, max_length=200)
    api_secret: str = Field(min_length=1, max_length=500)


class BacktestSubmit(Input):
    """A backtest of one of the user's strategies (``strategy_id``) or of a config."""

    strategy_id: str | None = Field(None, max_length=64)
    config: StrategyConfigInput | None = None  # type: ignore[valid-type]
    start_time: dt.datetime | None = Field(None, description="RFC 3339; default: the engine's.")
    end_time: dt.datetime | None = Field(None, description="RFC 3339; default: the engine's.")
    initial_capital: PositiveDecimal | None = None
    timeframe: TimeframeChoice | None = None  # type: ignore[valid-type]
    data_source: DataSourceChoice | None = None  # type: ignore[valid-type]
    seed: int | None = Field(None, ge=0, le=2**62)
    execution: ExecutionSettingsInput | None = None  # type: ignore[valid-type]


class ProfileUpdate(Input):
    """What a user may change in their profile. The tier is not one of them."""

    risk_tolerance: RiskToleranceChoice | None = None  # type: ignore[valid-type]
    paper_mode: bool | None = None


class PreferencesUpdate(Input):
    """Notification preferences; only the fields present are changed."""

    notifications_enabled: bool | None = None
    muted_types: list[NotificationTypeChoice] | None = Field(None, max_length=20)  # type: ignore[valid-type]
    channels: list[ChannelChoice] | None = Field(None, max_length=5)  # type: ignore[valid-type]
    webhook_url: str | None = Field(None, max_length=2000)
    webhook_secret: str | None = Field(None, max_length=500)
    email_address: str | None = Field(None, max_length=320)


class MarkRead(Input):
    """Mark some notifications (``notification_ids``) or all of them read."""

    notification_ids: list[Annotated[str, Field(max_length=64)]] = Field(
        default_factory=list, max_length=500
    )
    all: bool = False


class DeletedCount(BaseModel):
    deleted_count: int


class TradeOrder(Input):
    symbol: str = Field(min_length=1, max_length=32)
    side: SideChoice  # type: ignore[valid-type]
    order_type: OrderTypeChoice = "market"  # type: ignore[valid-type,assignment]
    time_in_force: TimeInForceChoice | None = None  # type: ignore[valid-type]
    quantity: PositiveDecimal | None = None
    notional: PositiveDecimal | None = None
    limit_price: PositiveDecimal | None = None
    stop_price: PositiveDecimal | None = None


class TradePreviewRequest(Input):
    """An order one of the user's strategies might place, checked but never placed."""

    strategy_id: str = Field(max_length=64)
    order: TradeOrder
    price: PositiveDecimal = Field(description="The current market price of the symbol.")


class KillSwitchChange(Input):
    """Halt (no order passes), reducing (only orders that shrink a position) or off."""

    mode: KillSwitchModeChoice  # type: ignore[valid-type]
    reason: Reason = ""


class PublishRequest(Input):
    """Publish one of the user's strategies; verification and ratings are the service's."""

    strategy_id: str = Field(max_length=64)
    name: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=2000)


class RatingRequest(Input):
    rating: int = Field(ge=1, le=5)


class CloneRequest(Input):
    name: str | None = Field(None, max_length=200, description="Default: the listing's name.")
