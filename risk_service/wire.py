"""Domain values into protobuf messages (and the enum tables both ways)."""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp

from risk_service.commitment import WorstCase
from risk_service.engine import Decision, Outcome, Verdict
from risk_service.kill_switch import KillSwitch, SwitchMode, SwitchScope
from risk_service.limits import EffectiveLimits, LimitSource, LimitValue
from risk_service.model import Profile, RiskTolerance, Tier
from risk_service.score import RiskLevel, RiskScore
from servicekit.money import format_decimal
from trading.risk.v1 import risk_service_pb2 as pb
from trading.types.v1 import types_pb2 as types

OUTCOMES = {
    Outcome.PASSED: pb.CHECK_OUTCOME_PASSED,
    Outcome.FAILED: pb.CHECK_OUTCOME_FAILED,
    Outcome.SKIPPED: pb.CHECK_OUTCOME_SKIPPED,
}
SOURCES = {
    LimitSource.PLATFORM: pb.LIMIT_SOURCE_PLATFORM,
    LimitSource.TIER: pb.LIMIT_SOURCE_TIER,
    LimitSource.RISK_TOLERANCE: pb.LIMIT_SOURCE_RISK_TOLERANCE,
    LimitSource.STRATEGY: pb.LIMIT_SOURCE_STRATEGY,
}
TIERS = {
    Tier.STARTER: types.SUBSCRIPTION_TIER_STARTER,
    Tier.PRO: types.SUBSCRIPTION_TIER_PRO,
    Tier.ELITE: types.SUBSCRIPTION_TIER_ELITE,
}
TOLERANCES = {
    RiskTolerance.CONSERVATIVE: types.RISK_TOLERANCE_CONSERVATIVE,
    RiskTolerance.MEDIUM: types.RISK_TOLERANCE_MEDIUM,
    RiskTolerance.AGGRESSIVE: types.RISK_TOLERANCE_AGGRESSIVE,
}
LEVELS = {
    RiskLevel.LOW: types.RISK_LEVEL_LOW,
    RiskLevel.MEDIUM: types.RISK_LEVEL_MEDIUM,
    RiskLevel.HIGH: types.RISK_LEVEL_HIGH,
}
SCOPES = {
    SwitchScope.PLATFORM: pb.KILL_SWITCH_SCOPE_PLATFORM,
    SwitchScope.USER: pb.KILL_SWITCH_SCOPE_USER,
    SwitchScope.STRATEGY: pb.KILL_SWITCH_SCOPE_STRATEGY,
}
MODES = {
    SwitchMode.REDUCING: pb.KILL_SWITCH_MODE_REDUCING,
    SwitchMode.HALTED: pb.KILL_SWITCH_MODE_HALTED,
}


def reverse(mapping: dict) -> dict:
    return {wire: domain for domain, wire in mapping.items()}


def _timestamp(value) -> Timestamp | None:
    if value is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


# A check that passed or was skipped always reads the same: its message is built once.
_SETTLED_CHECKS: dict[tuple[str, str, Outcome, str], pb.CheckResult] = {}
# An approval's checks are all settled, and the engine's settled verdicts are shared
# objects, so a few lists of them cover every approval: each list's messages are kept as
# one template, copied into the response by protobuf in one call. Keyed by the verdicts'
# ids; each entry holds its verdicts, so no id in a key can be reused by another object.
_APPROVAL_CHECKS: dict[tuple[int, ...], tuple[tuple[Verdict, ...], pb.ValidateTradeResponse]] = {}
MAX_APPROVAL_TEMPLATES = 256


def check_message(verdict: Verdict) -> pb.CheckResult:
    if verdict.outcome is Outcome.FAILED:
        return _new_check_message(verdict)
    key = (verdict.name, verdict.reason_code, verdict.outcome, verdict.message)
    message = _SETTLED_CHECKS.get(key)
    if message is None:
        message = _SETTLED_CHECKS[key] = _new_check_message(verdict)
    return message


def _new_check_message(verdict: Verdict) -> pb.CheckResult:
    return pb.CheckResult(
        name=verdict.name,
        reason_code=verdict.reason_code,
        outcome=OUTCOMES[verdict.outcome],
        message=verdict.message,
    )


def _approval_checks(checks: tuple[Verdict, ...]) -> pb.ValidateTradeResponse:
    key = tuple(map(id, checks))
    entry = _APPROVAL_CHECKS.get(key)
    if entry is None:
        if len(_APPROVAL_CHECKS) >= MAX_APPROVAL_TEMPLATES:
            _APPROVAL_CHECKS.clear()
        template = pb.ValidateTradeResponse(checks=[check_message(v) for v in checks])
        entry = _APPROVAL_CHECKS[key] = (checks, template)
    return entry[1]


def decision_message(decision: Decision, risk_event_id) -> pb.ValidateTradeResponse:
    response = pb.ValidateTradeResponse(
        allowed=decision.allowed,
        reason_code=decision.reason_code,
        message=decision.message,
        max_allowed_quantity=format_decimal(decision.max_allowed_quantity),
        reducing_only=decision.reducing_only,
        risk_event_id=str(risk_event_id) if risk_event_id else "",
    )
    # Copies: the shared messages and templates are never changed.
    if decision.allowed:
        response.MergeFrom(_approval_checks(decision.checks))
    else:
        response.checks.extend(check_message(v) for v in decision.checks)
    return response


def _limit_value(value: LimitValue | None) -> str:
    if value is None:
        return ""
    if isinstance(value, frozenset):
        return ",".join(sorted(item.value for item in value))
    return format_decimal(value)


def limits_message(limits: EffectiveLimits) -> list[pb.EffectiveLimit]:
    return [
        pb.EffectiveLimit(
            name=limit.name,
            value=_limit_value(limit.value),
            source=SOURCES[limit.source] if limit.source else pb.LIMIT_SOURCE_UNSPECIFIED,
            candidates=[
                pb.LimitCandidate(source=SOURCES[source], value=_limit_value(value))
                for source, value in limit.candidates
            ],
            unit=limit.unit,
        )
        for limit in limits.limits.values()
    ]


def worst_case_message(worst: WorstCase) -> pb.WorstCaseCommitment:
    return pb.WorstCaseCommitment(
        total_commitment=format_decimal(worst.total_commitment),
        allocated_capital=format_decimal(worst.allocated_capital),
        commitment_pct_of_allocation=format_decimal(worst.pct_of_allocation),
        exceeds_allocation=worst.exceeds_allocation,
        max_price_drop_pct=format_decimal(worst.max_price_drop_pct),
        lowest_price_covered=format_decimal(_round_price(worst.lowest_price_covered)),
        levels=[
            pb.CommitmentLevel(
                index=level.index,
                price_drop_pct=format_decimal(level.price_drop_pct),
                price=format_decimal(_round_price(level.price)),
                amount=format_decimal(level.amount),
                cumulative_amount=format_decimal(level.cumulative_amount),
            )
            for level in worst.levels
        ],
    )


def _round_price(price):
    return None if price is None else price.quantize(type(price)("0.00000001"))


def score_message(score: RiskScore, worst: WorstCase | None) -> pb.CalculateRiskScoreResponse:
    return pb.CalculateRiskScoreResponse(
        score=score.score,
        exact_score=f"{score.exact_score:.2f}",
        level=LEVELS[score.level],
        factors=[
            pb.RiskFactor(
                name=f.name,
                value=f.value,
                weight=format_decimal(f.weight),
                contribution=f"{f.contribution:.2f}",
                explanation=f.explanation,
            )
            for f in score.factors
        ],
        worst_case=worst_case_message(worst) if worst else None,
    )


def switch_message(switch: KillSwitch) -> pb.KillSwitch:
    return pb.KillSwitch(
        id=str(switch.id or ""),
        scope=SCOPES[switch.scope],
        user_id=str(switch.user_id or ""),
        strategy_id=str(switch.strategy_id or ""),
        mode=MODES[switch.mode],
        reason=switch.reason,
        set_by_service=switch.set_by_service,
        updated_at=_timestamp(switch.updated_at),
    )


def profile_message(profile: Profile) -> pb.Profile:
    return pb.Profile(
        user_id=str(profile.user_id),
        tier=TIERS[profile.tier],
        risk_tolerance=TOLERANCES[profile.risk_tolerance],
        paper_mode=profile.paper_mode,
        updated_at=_timestamp(profile.updated_at),
    )
