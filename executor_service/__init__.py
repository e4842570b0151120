"""Executor service: strategies' lifecycle, bot runners, brokers, orders and positions."""
