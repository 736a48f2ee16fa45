"""Releases expired seat holds in a background thread, re-quoting what is kept."""

import threading

import sentry_sdk

from boxoffice.services import seating


def requote_holds(holds: list[dict]) -> list[int]:
    return [seating.quote_seats(h["section"], h["count"]) for h in holds]


def _run(holds: list[dict]) -> None:
    with sentry_sdk.isolation_scope() as scope:
        scope.set_transaction_name("workers.hold_expiry")
        scope.set_tag("worker", "hold_expiry")
        try:
            requote_holds(holds)
        except Exception as exc:  # a failing sweep must not kill the worker
            sentry_sdk.capture_exception(exc)


def sweep_in_thread(holds: list[dict]) -> None:
    worker = threading.Thread(target=_run, args=(holds,), name="hold-expiry")
    worker.start()
    worker.join()
