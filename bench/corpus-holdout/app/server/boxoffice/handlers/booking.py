"""Ticket quotes and order fees."""

from boxoffice.services import fees, seating


def quote(body: dict, query: dict) -> dict:
    return {"totalCents": seating.quote_seats(body["section"], int(body.get("count", 1)))}


def order_fees(body: dict, query: dict) -> dict:
    return {"feePerTicketCents": fees.fee_per_ticket(body)}
