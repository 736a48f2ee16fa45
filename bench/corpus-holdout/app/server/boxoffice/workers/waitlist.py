"""Moves guests from the waitlist onto reservations that are released."""

import sentry_sdk

from boxoffice.services import reservations


def promote(entries: list[tuple[str, str]]) -> int:
    promoted = 0
    for number, guest in entries:
        reservations.find_reservation(number, guest)
        promoted += 1
    return promoted


def run(entries: list[tuple[str, str]]) -> None:
    with sentry_sdk.isolation_scope() as scope:
        scope.set_transaction_name("workers.waitlist")
        try:
            promote(entries)
        except Exception as exc:
            sentry_sdk.capture_exception(exc)
