"""Deterministic client order ids: the same (strategy, bar, intent) always gives the same id.

A retry after a timeout, a crash between writing and submitting, or a replayed bar all
derive the same id, so the broker (which refuses a duplicate client order id) and the
ledger (a unique column) can never hold the order twice.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

# Alpaca accepts up to 48 characters; "bot-" + 40 hex characters fits with room to spare.
PREFIX = "bot-"
DIGEST_CHARS = 40


def client_order_id(strategy_id: uuid.UUID, bar_at: datetime, intent_key: str) -> str:
    """The client order id of the order ``intent_key`` decided at the bar ``bar_at``."""
    if bar_at.tzinfo is None:
        raise ValueError("bar_at must be timezone-aware")
    material = "|".join((str(strategy_id), bar_at.astimezone(UTC).isoformat(), intent_key)).encode()
    return PREFIX + hashlib.sha256(material).hexdigest()[:DIGEST_CHARS]
