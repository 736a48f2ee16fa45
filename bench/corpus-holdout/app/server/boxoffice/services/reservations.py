"""Reservations held for guests."""


class ReservationMissing(LookupError):
    pass


RESERVATIONS = {("7001", "ana.ruiz@example.org"): {"seats": 2}, ("7002", "ben@example.org"): {"seats": 4}}


def find_reservation(number: str, guest: str) -> dict:
    found = RESERVATIONS.get((number, guest))
    if found is None:
        raise ReservationMissing(f"no reservation {number} for guest {guest}")
    return found
