"""Brokers the executor sends orders to: the built-in paper exchange and Alpaca."""
