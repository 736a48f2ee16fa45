"""Delivery estimates."""

from datetime import datetime, timedelta

DELIVERY_DAYS = {"standard": 4, "express": 1}


def parse_delivery_date(value: str) -> datetime:
    """The customer's wished-for delivery date from the checkout form."""
    return datetime.strptime(value, "%Y-%m-%d")


def estimate(wished: str, method: str) -> dict:
    wished_date = parse_delivery_date(wished)
    earliest = datetime(2026, 11, 23) + timedelta(days=DELIVERY_DAYS[method])
    chosen = max(wished_date, earliest)
    return {"method": method, "date": chosen.strftime("%Y-%m-%d")}
