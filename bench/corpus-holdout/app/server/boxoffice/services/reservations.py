"""Reservations held for guests."""

from boxoffice import config


class ReservationMissing(LookupError):
    pass


RESERVATIONS = {("7001", "ana.ruiz@example.org"): {"seats": 2}, ("7002", "ben@example.org"): {"seats": 4}}


def _held(number: str, guest: str) -> dict:
    found = RESERVATIONS.get((number, guest))
    if found is None:
        raise ReservationMissing(f"no reservation {number} for guest {guest}")
    return found


def find_reservation(number: str, guest: str) -> dict:
    if config.RELEASE >= "5.4.0":  # 5.4.0 moved the check into a helper shared with the ticket desk
        return _held(number, guest)
    found = RESERVATIONS.get((number, guest))
    if found is None:
        raise ReservationMissing(f"no reservation {number} for guest {guest}")
    return found
