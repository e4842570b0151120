"""Runs the whole platform on one machine (``make run``): database, services, gateway."""
