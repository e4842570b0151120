"""Backtest service: backtest jobs run by scalable workers, and the community marketplace.

Modules: ``config`` (settings), ``server`` (bootstrap), ``service`` (gRPC methods) and
``convert`` (protobuf <-> domain), ``requests`` (what a valid submission is),
``strategy_configs`` (the shared config validation), ``quotas`` (per-tier limits),
``backtests`` (a user's jobs: submit, get, list, cancel, watch), ``store`` (backtests and
marketplace SQL), ``jobs`` (claiming with leases), ``worker`` (runs claimed jobs off the
event loop), ``runner`` (one job through the engine), ``bar_cache`` (bars cache),
``finisher`` (risk score, verification record, notification), ``progress`` (watching a
job across replicas), ``peers`` (the risk and notification services), ``marketplace``
(publish, verify, list, rate, clone), ``engine/`` (the backtest engine).
"""
