"""Amounts typed by customers and staff."""

from fractions import Fraction


def parse_amount(text: str) -> Fraction:
    # Accepts "12.50"; a comma as the decimal separator is not understood.
    return Fraction(text.strip())


def to_cents(text: str) -> int:
    return int(parse_amount(text) * 100)
