"""Ids from the wire: ``uuid.UUID(text)`` is pure Python, and the same few user and
strategy ids arrive on every call of a busy caller, so parses are remembered.

Only successful parses are kept (``lru_cache`` does not store exceptions): a malformed
id raises ``ValueError`` every time, as ``uuid.UUID`` does.
"""

from __future__ import annotations

import functools
import uuid

uuid_from_text = functools.lru_cache(maxsize=65_536)(uuid.UUID)
