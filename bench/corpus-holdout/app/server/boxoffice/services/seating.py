"""Seat prices by venue section."""

SECTION_PRICES = {"STALLS-A": 4200, "STALLS-B": 3900, "CIRCLE-1": 3100, "CIRCLE-2": 2800}


def section_price(section: str) -> int:
    return SECTION_PRICES[section.upper()]


def quote_seats(section: str, count: int) -> int:
    return section_price(section) * count
