"""Opaque keyset cursors and page sizes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from notification_service.pagination import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    FeedPosition,
    decode_cursor,
    encode_cursor,
    page_size,
)
from servicekit.errors import InvalidArgument


def test_cursor_when_round_tripped_keeps_microseconds_and_id():
    position = FeedPosition(datetime(2026, 11, 24, 3, 4, 5, 123456, tzinfo=UTC), uuid.uuid4())
    assert decode_cursor(encode_cursor(position)) == position


def test_decode_cursor_when_empty_means_first_page():
    assert decode_cursor("") is None


@pytest.mark.parametrize("cursor", ["garbage!", "bjEuMTIz", "eDEuMS5hYmM", "%%%", "bjEuYS5i"])
def test_decode_cursor_when_malformed_names_cursor(cursor):
    with pytest.raises(InvalidArgument) as refused:
        decode_cursor(cursor)
    assert refused.value.field == "cursor"


@pytest.mark.parametrize("limit", [0, -1, MAX_PAGE_SIZE + 1, 2**31 - 1])
def test_page_size_when_out_of_range_names_limit(limit):
    with pytest.raises(InvalidArgument) as refused:
        page_size(limit)
    assert refused.value.field == "limit"


def test_page_size_when_unset_is_the_default_and_bounds_are_accepted():
    assert page_size(None) == DEFAULT_PAGE_SIZE
    assert (page_size(1), page_size(MAX_PAGE_SIZE)) == (1, MAX_PAGE_SIZE)
