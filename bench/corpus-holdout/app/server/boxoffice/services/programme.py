"""The venue's programme: showtimes and running times as the promoters send them."""

from datetime import datetime


def parse_showtime(text: str) -> datetime:
    return datetime.fromisoformat(text)


def parse_running_time(text: str) -> int:
    minutes = int(text)
    return minutes
