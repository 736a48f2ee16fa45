"""Partial refunds entered at the counter."""

from boxoffice.services import money


def partial_refund(body: dict, query: dict) -> dict:
    return {"order": body["order"], "refundCents": money.to_cents(str(body["amount"]))}
