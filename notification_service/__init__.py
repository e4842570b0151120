"""Notification service: every trade and risk event reaches its user once, stored and live."""
