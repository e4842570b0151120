"""Backtest service: backtest jobs run by scalable workers, and the community marketplace.

Modules: ``config`` (settings), ``server`` (bootstrap), ``service`` (protobuf <-> domain),
``requests`` (what a valid submission is), ``quotas`` (per-tier limits), ``store``
(backtests and marketplace SQL), ``jobs`` (claiming with leases), ``worker`` (runs claimed
jobs off the event loop), ``runner`` (one job through the engine), ``progress`` (watching a
job across replicas), ``peers`` (calls to the risk and notification services),
``marketplace`` (publish, verify, rate), ``engine/`` (the backtest engine).
"""
