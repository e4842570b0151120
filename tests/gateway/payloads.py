"""Valid request bodies for the gateway's tests."""

from __future__ import annotations

from typing import Any


def dca_config(name: str = "BTC DCA") -> dict[str, Any]:
    """A DCA bot on BTC/USD that buys on its first bar (paper exchange)."""
    return {
        "name": name,
        "strategy_type": "dca",
        "risk_level": "medium",
        "base_symbol": "BTC/USD",
        "asset_class": "crypto",
        "time_horizon": "swing",
        "automation_level": "fully_auto",
        "timeframe": "1m",
        "capital_allocation": {"allocated_capital": "5000", "max_capital_per_trade": "1000"},
        "position_sizing": {"method": "fixed_amount", "fixed_amount": "500", "max_positions": 1},
        "risk_controls": {"max_leverage": "1"},
        "dca": {
            "base_order_amount": "500",
            "safety_order_amount": "500",
            "max_safety_orders": 3,
            "price_deviation_pct": "0.2",
            "step_scale": "1",
            "volume_scale": "1",
            "take_profit_pct": "0.3",
        },
    }
