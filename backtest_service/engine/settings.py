"""Engine settings: costs and fill limits, with honest defaults per asset class."""

from __future__ import annotations

from dataclasses import dataclass

from strategies.config import AssetClass
from strategies.fills import Costs as FillCosts

# Crypto: a regular spot account pays about 0.10% maker and taker (e.g. Binance's base
# tier). US equities: Alpaca charges no commission (regulatory fees are negligible).
DEFAULT_FEES_BPS = {AssetClass.CRYPTO: (10.0, 10.0), AssetClass.US_EQUITY: (0.0, 0.0)}


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """How fills are simulated. ``None`` fees take the asset class default.

    mode: "fast" skips bars where nothing can happen; "per_bar" drives the strategy
    through every bar exactly as the live executor does (same results, slower).
    """

    maker_fee_bps: float | None = None
    taker_fee_bps: float | None = None
    slippage_bps: float = 5.0
    max_volume_share: float = 0.10
    mode: str = "fast"
    max_curve_points: int = 2000
    risk_free_rate: float = 0.0  # yearly, for Sharpe and Sortino
    benchmark: bool = True  # also run buy-and-hold over the same bars


@dataclass(frozen=True, slots=True)
class Costs(FillCosts):
    """Resolved costs as fractions (the fill model's, resolved from the settings)."""

    @classmethod
    def resolve(cls, settings: EngineSettings, asset_class: AssetClass) -> Costs:
        maker, taker = DEFAULT_FEES_BPS[asset_class]
        if settings.maker_fee_bps is not None:
            maker = settings.maker_fee_bps
        if settings.taker_fee_bps is not None:
            taker = settings.taker_fee_bps
        return cls(maker / 1e4, taker / 1e4, settings.slippage_bps / 1e4, settings.max_volume_share)
