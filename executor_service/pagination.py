"""Opaque keyset cursors: (created_at, id) of the last row of a page, newest first."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime

from servicekit.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


def page_size(limit: int) -> int:
    if limit < 0:
        raise InvalidArgument("page.limit", "must not be negative")
    return min(limit or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    text = f"{created_at.isoformat()}|{row_id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID] | None:
    """The position a cursor names; None for the first page; InvalidArgument if malformed."""
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created_at, row_id = text.split("|")
        position = datetime.fromisoformat(created_at), uuid.UUID(row_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidArgument("page.cursor", "is not a cursor this service issued") from None
    if position[0].tzinfo is None:
        raise InvalidArgument("page.cursor", "is not a cursor this service issued")
    return position
