"""Promoters upload the programme: showtimes and running times."""

from boxoffice.services import programme


def import_showtime(body: dict, query: dict) -> dict:
    return {"startsAt": programme.parse_showtime(body["startsAt"]).isoformat()}


def import_running_time(body: dict, query: dict) -> dict:
    return {"minutes": programme.parse_running_time(body["runningTime"])}
