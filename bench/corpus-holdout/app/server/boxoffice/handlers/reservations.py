"""Reservation look-up for the guest page."""

from boxoffice.services import reservations


def lookup(body: dict, query: dict) -> dict:
    return reservations.find_reservation(query.get("number", ""), query.get("guest", ""))
