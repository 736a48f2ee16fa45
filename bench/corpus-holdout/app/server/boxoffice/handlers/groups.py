"""Group bookings (schools, companies): one quote per section of the group."""

from boxoffice.services import seating


def group_quote(body: dict, query: dict) -> dict:
    total = 0
    for part in body["parts"]:
        total += seating.quote_seats(part["section"], int(part["count"]))
    return {"totalCents": int(total * 0.9)}
