"""A small shop backend that crashes in five distinct ways (sent to Bugsink by sentry-sdk).

Run with the Bugsink venv's Python: ``python shop_app.py DSN``. Django is importable there,
so sentry-sdk's auto-enabled integrations are switched off (the event then says
``sentry.python``, as from a plain app, not ``sentry.python.django``).
"""

from __future__ import annotations

import sys

import sentry_sdk

ORDERS = {1: {"total": 10.0}}


def parse_price(raw: str) -> float:
    return float(raw)


def customer_email(customer: dict[str, str]) -> str:
    return customer["email"]


def average_rating(ratings: list[int]) -> float:
    return sum(ratings) / len(ratings)


def load_order(order_id: int) -> dict[str, float]:
    return ORDERS[order_id]


def apply_discount(price: float | None, rate: float) -> float:
    return price * (1 - rate)  # type: ignore[operator]


CRASHES = [
    (parse_price, ("12,50 EUR",)),  # the same bug reached by two different inputs:
    (parse_price, ("twelve",)),  #    Bugsink files them as two issues (different messages)
    (customer_email, ({"name": "bob"},)),
    (customer_email, ({"name": "alice"},)),  # same message: one Bugsink issue, 2 events
    (average_rating, ([],)),
    (load_order, (17,)),  # numbers in messages are normalised by Bugsink: one issue
    (load_order, (42,)),
    (apply_discount, (None, 0.1)),
]


def main(dsn: str) -> int:
    sentry_sdk.init(
        dsn=dsn,
        release="shop-app@1.4.0",
        environment="ci",
        auto_enabling_integrations=False,
        send_default_pii=False,
    )
    sentry_sdk.set_tag("component", "checkout")
    for function, arguments in CRASHES:
        try:
            function(*arguments)
        except Exception as exc:  # every crash is reported, then the next one runs
            sentry_sdk.capture_exception(exc)
    sentry_sdk.flush(timeout=20)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
