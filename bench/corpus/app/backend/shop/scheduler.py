"""Runs background jobs; a failing job is reported and the scheduler goes on."""

from collections.abc import Callable

import sentry_sdk


def run_job(name: str, job: Callable[..., object], *args: object) -> object:
    with sentry_sdk.isolation_scope() as scope:
        scope.set_transaction_name(name)
        scope.set_tag("job", name)
        try:
            return job(*args)
        except Exception as exc:  # a failed job must not stop the others
            sentry_sdk.capture_exception(exc)
            return None
