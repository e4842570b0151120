"""Worst-case capital commitment of DCA and grid bots: what is committed when every
safety order or every grid level fills, and the lowest price still covered."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from servicekit.errors import InvalidArgument

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


class GridMode(StrEnum):
    ARITHMETIC = "arithmetic"
    GEOMETRIC = "geometric"


@dataclass(frozen=True, slots=True)
class DcaPlan:
    base_order_amount: Decimal
    safety_order_amount: Decimal
    max_safety_orders: int
    price_deviation_pct: Decimal
    step_scale: Decimal = Decimal(1)
    volume_scale: Decimal = Decimal(1)


@dataclass(frozen=True, slots=True)
class GridPlan:
    lower_price: Decimal
    upper_price: Decimal
    grid_count: int
    mode: GridMode = GridMode.ARITHMETIC
    quantity_per_grid: Decimal | None = None


@dataclass(frozen=True, slots=True)
class CommitmentLevel:
    index: int
    amount: Decimal
    cumulative_amount: Decimal
    price_drop_pct: Decimal | None = None
    price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class WorstCase:
    total_commitment: Decimal
    levels: tuple[CommitmentLevel, ...]
    allocated_capital: Decimal | None
    max_price_drop_pct: Decimal | None
    lowest_price_covered: Decimal | None

    @property
    def pct_of_allocation(self) -> Decimal | None:
        if not self.allocated_capital:
            return None
        return (self.total_commitment * HUNDRED / self.allocated_capital).quantize(CENT)

    @property
    def exceeds_allocation(self) -> bool:
        return self.allocated_capital is not None and self.total_commitment > self.allocated_capital


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def dca_worst_case(
    plan: DcaPlan, allocated_capital: Decimal | None, reference_price: Decimal | None = None
) -> WorstCase:
    """Base order plus every safety order, each deeper and (volume scale) larger."""
    levels = [
        CommitmentLevel(
            0, plan.base_order_amount, plan.base_order_amount, Decimal(0), reference_price
        )
    ]
    cumulative = plan.base_order_amount
    drop = Decimal(0)
    step = plan.price_deviation_pct
    amount = plan.safety_order_amount
    for index in range(1, plan.max_safety_orders + 1):
        drop += step
        if drop >= HUNDRED:
            raise InvalidArgument(
                "config.dca.step_scale",
                f"safety order {index} would sit {drop:.2f}% below entry: at or below zero",
            )
        cumulative += amount
        price = None
        if reference_price is not None:
            price = reference_price * (1 - drop / HUNDRED)
        levels.append(
            CommitmentLevel(index, _cents(amount), _cents(cumulative), drop.quantize(CENT), price)
        )
        step *= plan.step_scale
        amount *= plan.volume_scale
    lowest = None if reference_price is None else reference_price * (1 - drop / HUNDRED)
    return WorstCase(
        total_commitment=_cents(cumulative),
        levels=tuple(levels),
        allocated_capital=allocated_capital,
        max_price_drop_pct=drop.quantize(CENT),
        lowest_price_covered=lowest,
    )


def grid_prices(plan: GridPlan) -> list[Decimal]:
    """The grid's levels from lower to upper price."""
    steps = plan.grid_count - 1
    if plan.mode is GridMode.GEOMETRIC:
        ratio = plan.upper_price / plan.lower_price
        return [plan.lower_price * ratio ** (Decimal(i) / steps) for i in range(plan.grid_count)]
    gap = (plan.upper_price - plan.lower_price) / steps
    return [plan.lower_price + gap * i for i in range(plan.grid_count)]


def grid_worst_case(
    plan: GridPlan, allocated_capital: Decimal | None, reference_price: Decimal | None = None
) -> WorstCase:
    """Every grid level bought: the price fell through the whole grid to its lower bound."""
    if plan.quantity_per_grid is None and allocated_capital is None:
        raise InvalidArgument(
            "config.grid.quantity_per_grid",
            "is required when the strategy has no allocated capital to split",
        )
    levels = []
    cumulative = Decimal(0)
    for index, price in enumerate(grid_prices(plan)):
        if plan.quantity_per_grid is not None:
            amount = plan.quantity_per_grid * price
        else:
            assert allocated_capital is not None
            amount = allocated_capital / plan.grid_count
        cumulative += amount
        levels.append(CommitmentLevel(index, _cents(amount), _cents(cumulative), None, price))
    drop = None
    if reference_price is not None and reference_price > plan.lower_price:
        drop = ((reference_price - plan.lower_price) * HUNDRED / reference_price).quantize(CENT)
    return WorstCase(
        total_commitment=_cents(cumulative),
        levels=tuple(levels),
        allocated_capital=allocated_capital,
        max_price_drop_pct=drop,
        lowest_price_covered=plan.lower_price,
    )
