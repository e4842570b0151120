from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicekit.errors import InvalidArgument
from servicekit.money import _places, format_decimal, format_usd, parse_decimal


@pytest.mark.parametrize(
    ("text", "expected"), [("150", Decimal("150")), ("0.00012345", Decimal("0.00012345"))]
)
def test_parse_decimal_when_well_formed_returns_exact_decimal(text, expected):
    assert parse_decimal(text, "price") == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("NaN", "finite"),
        ("Infinity", "finite"),
        ("abc", "not a decimal"),
        ("1e999", "out of range"),
        ("", "required"),
    ],
)
def test_parse_decimal_when_malformed_names_the_field(text, message):
    with pytest.raises(InvalidArgument, match=message) as raised:
        parse_decimal(text, "order.quantity")
    assert raised.value.field == "order.quantity"


def test_parse_decimal_when_negative_and_positive_required_raises():
    with pytest.raises(InvalidArgument, match="negative"):
        parse_decimal("-1", "quantity", positive=True)


def test_parse_decimal_when_zero_not_allowed_raises():
    with pytest.raises(InvalidArgument, match="zero"):
        parse_decimal("0", "quantity", allow_zero=False)


def test_parse_decimal_when_too_many_places_raises():
    with pytest.raises(InvalidArgument, match="decimal places"):
        parse_decimal("1.001", "price", max_places=2)


def test_parse_decimal_when_optional_and_empty_returns_none():
    assert parse_decimal("", "limit_price", required=False) is None


def test_format_decimal_when_round_trip_keeps_value_without_exponent():
    assert format_decimal(Decimal("1E+3")) == "1000"
    assert format_decimal(Decimal("0.50")) == "0.5"
    assert format_decimal(Decimal("0.00000001")) == "0.00000001"


def test_format_usd_when_thousands_groups_and_two_places():
    assert format_usd(Decimal("15000")) == "$15,000.00"
    assert format_usd(Decimal("-5.5")) == "-$5.50"


@given(
    st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**14), max_value=10**14),
    st.sampled_from(["plain", "exponent"]),
)
def test_decimal_places_when_read_off_text_match_the_decimals_exponent(number, form):
    text = format(number, "f") if form == "plain" else format(number, "e")
    expected = max(0, -Decimal(text).as_tuple().exponent)
    assert _places(text, Decimal(text)) == expected
