"""The engine's fill rules: the model shared with the live executor (``strategies.fills``)."""

from strategies.fills import FillModel

__all__ = ["FillModel"]
