"""The RiskService servicer: protobuf in, domain calls, protobuf out. Errors are
servicekit.errors (mapped to status codes by the server's interceptor)."""

from __future__ import annotations

import uuid

import grpc

from risk_service import config_inputs, validation, wire
from risk_service.cache import RiskCache
from risk_service.kill_switch import (
    KillSwitch,
    authorize_change,
    check_target,
)
from risk_service.limits import effective_limits
from risk_service.model import RiskTolerance, Tier
from risk_service.score import risk_score
from risk_service.store import RiskStore
from risk_service.validator import TradeValidator
from servicekit.auth import authorize_user, current_caller
from servicekit.errors import InvalidArgument, PermissionDenied
from trading.risk.v1 import risk_service_pb2 as pb
from trading.risk.v1 import risk_service_pb2_grpc as pb_grpc
from trading.types.v1 import types_pb2 as types

SCOPES = wire.reverse(wire.SCOPES)
MODES = wire.reverse(wire.MODES)
TIERS = wire.reverse(wire.TIERS)
TOLERANCES = wire.reverse(wire.TOLERANCES)
MAX_REASON = 500


class RiskServicer(pb_grpc.RiskServiceServicer):
    def __init__(self, store: RiskStore, cache: RiskCache, validator: TradeValidator):
        self._store = store
        self._cache = cache
        self._validator = validator

    async def ValidateTrade(
        self, request: pb.ValidateTradeRequest, context: grpc.aio.ServicerContext
    ) -> pb.ValidateTradeResponse:
        user_id = authorize_user(request.user_id)
        order, account, strategy, live = validation.parse_trade_request(request)
        result = await self._validator.validate(
            user_id, order, account, strategy, live, dry_run=request.dry_run
        )
        return wire.decision_message(result.decision, result.risk_event_id)

    async def CalculateRiskScore(
        self, request: pb.CalculateRiskScoreRequest, context: grpc.aio.ServicerContext
    ) -> pb.CalculateRiskScoreResponse:
        if not request.HasField("config"):
            raise InvalidArgument("config", "is required")
        worst = config_inputs.worst_case(request.config, request.reference_price)
        backtest = request.backtest if request.HasField("backtest") else None
        inputs = config_inputs.score_inputs(request.config, backtest, worst)
        return wire.score_message(risk_score(inputs), worst)

    async def GetWorstCaseCommitment(
        self, request: pb.GetWorstCaseCommitmentRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetWorstCaseCommitmentResponse:
        if not request.HasField("config"):
            raise InvalidArgument("config", "is required")
        worst = config_inputs.worst_case(request.config, request.reference_price)
        if worst is None:
            raise InvalidArgument(
                "config.strategy_type", "a worst-case commitment exists for DCA and grid bots only"
            )
        return pb.GetWorstCaseCommitmentResponse(worst_case=wire.worst_case_message(worst))

    async def GetEffectiveLimits(
        self, request: pb.GetEffectiveLimitsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetEffectiveLimitsResponse:
        user_id = authorize_user(request.user_id)
        strategy_limits = None
        if request.HasField("strategy_config"):
            strategy_limits = validation.parse_strategy_limits(
                request.strategy_config, "strategy_config"
            )
        platform = await self._cache.platform()
        profile = (await self._cache.user(user_id)).profile
        limits = effective_limits(
            platform.config, profile.tier, profile.risk_tolerance, strategy_limits
        )
        return pb.GetEffectiveLimitsResponse(
            tier=wire.TIERS[profile.tier],
            risk_tolerance=wire.TOLERANCES[profile.risk_tolerance],
            limits=wire.limits_message(limits),
        )

    async def SetKillSwitch(
        self, request: pb.SetKillSwitchRequest, context: grpc.aio.ServicerContext
    ) -> pb.SetKillSwitchResponse:
        scope = validation.enum_value(SCOPES, request.scope, "scope", "KillSwitchScope")
        clearing = request.mode == pb.KILL_SWITCH_MODE_OFF
        mode = (
            None
            if clearing
            else validation.enum_value(MODES, request.mode, "mode", "KillSwitchMode")
        )
        user_id = authorize_user(request.user_id) if request.user_id else None
        strategy_id = (
            validation.parse_uuid(request.strategy_id, "strategy_id")
            if request.strategy_id
            else None
        )
        check_target(scope, user_id, strategy_id)
        caller = current_caller()
        existing = await self._store.find_switch(scope, user_id, strategy_id)
        authorize_change(scope, caller.is_service, existing)
        # A service writes as itself; a user under their own RLS.
        as_user = None if caller.is_service else user_id
        if clearing:
            if await self._store.clear_switch(scope, user_id, strategy_id, as_user=as_user):
                await self._record_switch_event("kill_switch_cleared", existing, caller.is_service)
            return pb.SetKillSwitchResponse()
        reason = request.reason.strip()
        if not reason or len(reason) > MAX_REASON:
            raise InvalidArgument("reason", f"is required (1 to {MAX_REASON} characters)")
        assert mode is not None
        switch = await self._store.set_switch(
            KillSwitch(scope, mode, reason, user_id, strategy_id, set_by_service=caller.is_service),
            as_user=as_user,
        )
        await self._record_switch_event("kill_switch_set", switch, caller.is_service)
        return pb.SetKillSwitchResponse(kill_switch=wire.switch_message(switch))

    async def _record_switch_event(
        self, event_type: str, switch: KillSwitch | None, by_service: bool
    ) -> None:
        if switch is None:
            return
        await self._store.record_event(
            user_id=switch.user_id,
            strategy_id=switch.strategy_id,
            event_type=event_type,
            reason_code="KILL_SWITCH",
            message=switch.describe(),
            details={
                "scope": switch.scope,
                "mode": switch.mode,
                "reason": switch.reason,
                "by": "service" if by_service else "user",
            },
        )

    async def ListKillSwitches(
        self, request: pb.ListKillSwitchesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListKillSwitchesResponse:
        user_id: uuid.UUID | None = None
        if request.user_id:
            user_id = authorize_user(request.user_id)
        elif not current_caller().is_service:
            raise InvalidArgument("user_id", "is required")
        switches = await self._store.list_switches(user_id)
        return pb.ListKillSwitchesResponse(kill_switches=[wire.switch_message(s) for s in switches])

    async def GetProfile(
        self, request: pb.GetProfileRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetProfileResponse:
        user_id = authorize_user(request.user_id)
        profile = await self._store.get_profile(user_id)
        return pb.GetProfileResponse(profile=wire.profile_message(profile))

    async def UpdateProfile(
        self, request: pb.UpdateProfileRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateProfileResponse:
        user_id = authorize_user(request.user_id)
        tolerance: RiskTolerance | None = None
        if request.risk_tolerance != types.RISK_TOLERANCE_UNSPECIFIED:
            tolerance = validation.enum_value(
                TOLERANCES, request.risk_tolerance, "risk_tolerance", "RiskTolerance"
            )
        tier: Tier | None = None
        if request.tier != types.SUBSCRIPTION_TIER_UNSPECIFIED:
            tier = validation.enum_value(TIERS, request.tier, "tier", "SubscriptionTier")
            if not current_caller().is_service:
                raise PermissionDenied("tier", "the subscription tier is changed by billing only")
        paper_mode = request.paper_mode if request.HasField("paper_mode") else None
        before = await self._store.get_profile(user_id)
        profile = await self._store.update_profile(
            user_id, risk_tolerance=tolerance, paper_mode=paper_mode, tier=tier
        )
        if profile != before:
            await self._store.record_event(
                user_id=user_id,
                strategy_id=None,
                event_type="profile_changed",
                message="risk profile changed",
                details={
                    "before": {
                        "tier": before.tier,
                        "risk_tolerance": before.risk_tolerance,
                        "paper_mode": before.paper_mode,
                    },
                    "after": {
                        "tier": profile.tier,
                        "risk_tolerance": profile.risk_tolerance,
                        "paper_mode": profile.paper_mode,
                    },
                },
            )
        return pb.UpdateProfileResponse(profile=wire.profile_message(profile))
