"""Sends queued mails through the venue's SMTP relay."""

import sentry_sdk


class RelayTimeout(TimeoutError):
    pass


def deliver(batch: list[str], relay_up: bool) -> int:
    if not relay_up:
        raise RelayTimeout("SMTP relay did not answer")
    return len(batch)


def flush(batch: list[str], relay_up: bool) -> None:
    with sentry_sdk.isolation_scope() as scope:
        scope.set_transaction_name("workers.mail_queue")
        try:
            deliver(batch, relay_up)
        except Exception as exc:
            sentry_sdk.capture_exception(exc)
