"""The risk score of a strategy: nine factors, each adding up to its weight in points,
summed to 0-100. Deterministic (Decimal arithmetic, fixed rounding) and monotone in each
input: a deeper drawdown, a larger position, a higher leverage or a missing or wider
stop loss never lowers it. The formula is documented in docs/risk.md."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from risk_service.model import AssetClass
from servicekit.money import format_decimal

CENT = Decimal("0.01")
ZERO = Decimal(0)
ONE = Decimal(1)


class StrategyKind(StrEnum):
    DCA = "dca"
    SPOT_GRID = "spot_grid"
    RSI_REVERSION = "rsi_reversion"
    SMA_CROSSOVER = "sma_crossover"
    BUY_AND_HOLD = "buy_and_hold"
    UNKNOWN = "unknown"


class RiskLevel(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


# Points each factor adds at most; they sum to 100.
WEIGHTS = {
    "max_drawdown": Decimal(25),
    "position_size": Decimal(15),
    "stop_loss": Decimal(15),
    "volatility": Decimal(10),
    "leverage": Decimal(10),
    "worst_case_commitment": Decimal(10),
    "concentration": Decimal(5),
    "strategy_type": Decimal(5),
    "sharpe": Decimal(5),
}
# What each input is compared with: at this value the factor adds its full weight.
FULL_DRAWDOWN_PCT = Decimal(50)
FULL_VOLATILITY_PCT = Decimal(100)
FULL_POSITION_PCT = Decimal(50)
FULL_EXTRA_LEVERAGE = Decimal(4)
FULL_STOP_LOSS_PCT = Decimal(20)
DEFAULT_VOLATILITY_PCT = {AssetClass.CRYPTO: Decimal(60), AssetClass.US_EQUITY: Decimal(25)}
STRATEGY_TYPE_RISK = {
    StrategyKind.BUY_AND_HOLD: Decimal("0.2"),
    StrategyKind.SMA_CROSSOVER: Decimal("0.4"),
    StrategyKind.RSI_REVERSION: Decimal("0.5"),
    StrategyKind.DCA: Decimal("0.6"),
    StrategyKind.SPOT_GRID: Decimal("0.6"),
    StrategyKind.UNKNOWN: Decimal("0.6"),
}
CRYPTO_TYPE_RISK = Decimal("0.3")
LOW_BELOW, HIGH_FROM = 34, 67


@dataclass(frozen=True, slots=True)
class ScoreInputs:
    strategy_kind: StrategyKind
    asset_class: AssetClass
    position_pct: Decimal  # of the allocation (or equity) one position may take
    max_positions: int
    leverage: Decimal = ONE
    stop_loss_pct: Decimal | None = None
    max_drawdown_limit_pct: Decimal | None = None  # the strategy's own limit
    backtest_drawdown_pct: Decimal | None = None
    backtest_volatility_pct: Decimal | None = None
    backtest_sharpe: Decimal | None = None
    commitment_pct_of_allocation: Decimal | None = None  # DCA and grid only
    has_worst_case: bool = False


@dataclass(frozen=True, slots=True)
class Factor:
    name: str
    value: str
    weight: Decimal
    contribution: Decimal
    explanation: str


@dataclass(frozen=True, slots=True)
class RiskScore:
    score: int
    exact_score: Decimal
    level: RiskLevel
    factors: tuple[Factor, ...]


def _clamp(value: Decimal) -> Decimal:
    return min(max(value, ZERO), ONE)


def _factor(name: str, share: Decimal, value: str, explanation: str) -> Factor:
    weight = WEIGHTS[name]
    contribution = (weight * _clamp(share)).quantize(CENT, rounding=ROUND_HALF_UP)
    return Factor(name, value, weight, contribution, explanation)


def _drawdown(inputs: ScoreInputs) -> Factor:
    if inputs.backtest_drawdown_pct is not None:
        drawdown, origin = inputs.backtest_drawdown_pct, "the backtest's maximum drawdown"
    elif inputs.max_drawdown_limit_pct is not None:
        drawdown, origin = inputs.max_drawdown_limit_pct, "the strategy's drawdown limit"
    else:
        drawdown, origin = FULL_DRAWDOWN_PCT, "unknown (no backtest, no drawdown limit)"
    return _factor(
        "max_drawdown",
        drawdown / FULL_DRAWDOWN_PCT,
        format_decimal(drawdown),
        f"{origin}: {format_decimal(drawdown)}%; {FULL_DRAWDOWN_PCT}% or more adds the full weight",
    )


def _volatility(inputs: ScoreInputs) -> Factor:
    volatility = inputs.backtest_volatility_pct
    origin = "the backtest's annualized volatility"
    if volatility is None:
        volatility = DEFAULT_VOLATILITY_PCT[inputs.asset_class]
        origin = f"typical for {inputs.asset_class.value} (no backtest)"
    return _factor(
        "volatility",
        volatility / FULL_VOLATILITY_PCT,
        format_decimal(volatility),
        f"{origin}: {format_decimal(volatility)}% a year",
    )


def _position_size(inputs: ScoreInputs) -> Factor:
    return _factor(
        "position_size",
        inputs.position_pct / FULL_POSITION_PCT,
        format_decimal(inputs.position_pct),
        f"one position takes {format_decimal(inputs.position_pct)}% of the capital; "
        f"{FULL_POSITION_PCT}% or more adds the full weight",
    )


def _stop_loss(inputs: ScoreInputs) -> Factor:
    if inputs.stop_loss_pct is None:
        return _factor("stop_loss", ONE, "", "no stop loss: losses are not cut")
    return _factor(
        "stop_loss",
        inputs.stop_loss_pct / FULL_STOP_LOSS_PCT,
        format_decimal(inputs.stop_loss_pct),
        f"stop loss {format_decimal(inputs.stop_loss_pct)}% below entry; "
        f"{FULL_STOP_LOSS_PCT}% or wider counts as none",
    )


def _leverage(inputs: ScoreInputs) -> Factor:
    return _factor(
        "leverage",
        (inputs.leverage - ONE) / FULL_EXTRA_LEVERAGE,
        format_decimal(inputs.leverage),
        f"{format_decimal(inputs.leverage)}x leverage; 5x or more adds the full weight",
    )


def _concentration(inputs: ScoreInputs) -> Factor:
    positions = max(inputs.max_positions, 1)
    return _factor(
        "concentration",
        ONE / positions,
        str(positions),
        f"capital spread over at most {positions} position(s)",
    )


def _strategy_type(inputs: ScoreInputs) -> Factor:
    share = STRATEGY_TYPE_RISK[inputs.strategy_kind]
    crypto = inputs.asset_class is AssetClass.CRYPTO
    if crypto:
        share += CRYPTO_TYPE_RISK
    market = "crypto" if crypto else "equities"
    return _factor(
        "strategy_type",
        share,
        inputs.strategy_kind.value,
        f"{inputs.strategy_kind.value.replace('_', ' ')} on {market}",
    )


def _sharpe(inputs: ScoreInputs) -> Factor:
    if inputs.backtest_sharpe is None:
        return _factor("sharpe", Decimal("0.5"), "", "unknown (no backtest): half the weight")
    sharpe = inputs.backtest_sharpe
    return _factor(
        "sharpe",
        (2 - sharpe) / 3,
        format_decimal(sharpe),
        f"Sharpe ratio {format_decimal(sharpe)}; 2 or more adds nothing, "
        "-1 or less the full weight",
    )


def _worst_case(inputs: ScoreInputs) -> Factor:
    if not inputs.has_worst_case:
        return _factor("worst_case_commitment", ZERO, "", "not a DCA or grid bot")
    pct = inputs.commitment_pct_of_allocation
    if pct is None:
        return _factor(
            "worst_case_commitment", ONE, "", "no allocated capital bounds the commitment"
        )
    return _factor(
        "worst_case_commitment",
        (pct - 50) / 100,
        format_decimal(pct),
        f"every order filled commits {format_decimal(pct)}% of the allocation; "
        "50% adds nothing, 150% or more the full weight",
    )


def risk_score(inputs: ScoreInputs) -> RiskScore:
    """The score, its level and every factor's contribution."""
    factors = tuple(
        factor(inputs)
        for factor in (
            _drawdown,
            _position_size,
            _stop_loss,
            _volatility,
            _leverage,
            _worst_case,
            _concentration,
            _strategy_type,
            _sharpe,
        )
    )
    exact = sum((f.contribution for f in factors), start=ZERO)
    score = int(exact.quantize(ONE, rounding=ROUND_HALF_UP))
    level = (
        RiskLevel.LOW
        if score < LOW_BELOW
        else RiskLevel.MEDIUM
        if score < HIGH_FROM
        else RiskLevel.HIGH
    )
    return RiskScore(score, exact, level, factors)
