"""Keyset pagination over the feed, newest first, with an opaque cursor.

A cursor is the position of the last notification of a page, (created_at, id), so the
next page starts strictly after it: no offset scans, and nothing is returned twice or
skipped when new notifications arrive in between.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from servicekit.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_VERSION = "n1"


@dataclass(frozen=True, slots=True)
class FeedPosition:
    """Where a page ended: the (created_at, id) of its last notification."""

    created_at: datetime
    id: uuid.UUID


def page_size(limit: int | None) -> int:
    """The page size asked for; unset means the default, out of 1..MAX is refused."""
    if limit is None:
        return DEFAULT_PAGE_SIZE
    if limit <= 0 or limit > MAX_PAGE_SIZE:
        raise InvalidArgument("limit", f"must be between 1 and {MAX_PAGE_SIZE}")
    return limit


def encode_cursor(position: FeedPosition) -> str:
    """An opaque string the client hands back for the next page."""
    micros = (position.created_at - _EPOCH) // timedelta(microseconds=1)
    raw = f"{_VERSION}.{micros}.{position.id.hex}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> FeedPosition | None:
    """The position a cursor names; empty means the first page. InvalidArgument if malformed."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        version, micros, id_hex = raw.split(".")
        if version != _VERSION:
            raise ValueError(version)
        created_at = _EPOCH + timedelta(microseconds=int(micros))
        return FeedPosition(created_at=created_at, id=uuid.UUID(hex=id_hex))
    except (ValueError, binascii.Error, UnicodeDecodeError, OverflowError):
        raise InvalidArgument("cursor", "is not a cursor returned by this service") from None
