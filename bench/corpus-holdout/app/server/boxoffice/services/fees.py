"""Booking fees: a flat fee shared by the tickets of an order."""

FLAT_FEE_CENTS = 250


def fee_per_ticket(order: dict) -> int:
    tickets = [line for line in order["lines"] if line["kind"] == "ticket"]
    return FLAT_FEE_CENTS // len(tickets)
