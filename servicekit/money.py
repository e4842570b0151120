"""Decimal amounts on the wire: parse strings strictly, format them canonically."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from servicekit.errors import InvalidArgument

# Far above any real price or quantity, far below where Decimal arithmetic gets slow;
# it rejects "1e999999" style inputs before they reach a rule.
MAX_MAGNITUDE = Decimal("1e15")


def parse_decimal(
    value: str,
    field: str,
    *,
    positive: bool = False,
    allow_zero: bool = True,
    max_places: int | None = None,
    required: bool = True,
) -> Decimal | None:
    """Turn a wire string into a finite Decimal, or raise InvalidArgument naming ``field``.

    An empty string is "missing": an error when ``required``, else ``None``.
    """
    text = (value or "").strip()
    if not text:
        if required:
            raise InvalidArgument(field, "is required")
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise InvalidArgument(field, f"is not a decimal number: {value!r}") from None
    if not number.is_finite():
        raise InvalidArgument(field, "must be a finite number")
    if not -MAX_MAGNITUDE < number < MAX_MAGNITUDE:
        raise InvalidArgument(field, f"is out of range (must be below {MAX_MAGNITUDE:,.0f})")
    if number <= 0:
        if positive and number < 0:
            raise InvalidArgument(field, "must not be negative")
        if not allow_zero and number == 0:
            raise InvalidArgument(field, "must not be zero")
    if max_places is not None and _places(text, number) > max_places:
        raise InvalidArgument(field, f"has more than {max_places} decimal places")
    return number


def _places(text: str, number: Decimal) -> int:
    """Decimal places as written ("1.50" has two). Read off the text when it has no
    exponent: Decimal.as_tuple() builds a tuple of every digit, on every amount."""
    if "e" in text or "E" in text:
        return max(0, -number.as_tuple().exponent)  # type: ignore[operator]
    dot = text.find(".")
    return 0 if dot < 0 else len(text) - dot - 1


def format_decimal(value: Decimal | int | None) -> str:
    """Canonical wire form: no exponent, no trailing zeros beyond the units ("" for None)."""
    if value is None:
        return ""
    number = Decimal(value)
    if number == number.to_integral_value():
        return str(number.quantize(Decimal(1)))
    return format(number.normalize(), "f")


def format_usd(value: Decimal) -> str:
    """Human form for messages: $15,000.00."""
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"
