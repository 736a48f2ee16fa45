"""`selfheal pull sentry|bugsink`: fetch issues with their latest events into out/sentry_errors.json.

Secrets and addresses come from the environment only (see ``selfheal.settings``):
SENTRY_AUTH_TOKEN, SENTRY_ORG, SENTRY_PROJECT, SENTRY_ENV, SENTRY_ERROR_LIMIT, SENTRY_BASE_URL;
BUGSINK_BASE_URL, BUGSINK_TOKEN, BUGSINK_PROJECT.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from selfheal.cli.common import add_out_option, info
from selfheal.project import in_project
from selfheal.settings import BUGSINK_STATES, BugsinkSettings, SentrySettings

if TYPE_CHECKING:  # httpx, stamina and the clients load only when a pull runs
    from stamina.instrumentation import RetryDetails

    from selfheal.sources._pull import PullReport

#: Requests in flight at once by default; the same number as ``selfheal.sources._http.DEFAULT_CONCURRENCY``
#: (kept here so ``selfheal --help`` does not import httpx; a test checks they agree).
DEFAULT_CONCURRENCY = 8

__all__ = ["register"]


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "pull",
        help="fetch issues and their latest events from Sentry or Bugsink",
        description="Fetch issues and their latest events into OUT/sentry_errors.json.",
    )
    sources = parser.add_subparsers(dest="source", metavar="SOURCE", required=True)

    sentry = sources.add_parser(
        "sentry",
        help="pull from Sentry (sentry.io, a region host, or self-hosted)",
        description=(
            "Pull unresolved issues and their latest events from Sentry into OUT/sentry_errors.json. "
            "Environment: SENTRY_AUTH_TOKEN (scopes event:read, project:read, org:read), SENTRY_ORG, "
            "SENTRY_PROJECT (comma-separated), SENTRY_ENV (default production), SENTRY_ERROR_LIMIT "
            "(default 10), SENTRY_BASE_URL (default https://sentry.io)."
        ),
    )
    sentry.add_argument(
        "--limit",
        type=_non_negative,
        default=None,
        metavar="N",
        help="issues wanted; 0 = all (default: SENTRY_ERROR_LIMIT, else 10)",
    )
    sentry.add_argument(
        "--project",
        action="append",
        default=[],
        metavar="P",
        help="project slug or id; repeatable (default: SENTRY_PROJECT, else all)",
    )
    sentry.add_argument(
        "--environment",
        default=None,
        metavar="E",
        help="environment; '' for all (default: SENTRY_ENV, else production)",
    )
    sentry.add_argument(
        "--query", default="is:unresolved", metavar="Q", help="Sentry search (default: is:unresolved)"
    )
    sentry.add_argument(
        "--stats-period", default="14d", metavar="PERIOD", help="e.g. 24h, 14d (default: 14d)"
    )
    sentry.add_argument(
        "--group-stats-period",
        default=None,
        choices=["", "14d", "24h", "auto"],
        help="which timeline goes into each issue's stats (default: Sentry's)",
    )
    sentry.add_argument(
        "--sort",
        default="date",
        choices=["date", "new", "trends", "freq", "user", "inbox", "recommended"],
        help="issue order (default: date = last seen)",
    )
    sentry.add_argument(
        "--since", default=None, metavar="ISO", help="start (ISO-8601); replaces --stats-period"
    )
    sentry.add_argument("--until", default=None, metavar="ISO", help="end (ISO-8601; needs --since)")
    _add_common(sentry)
    sentry.set_defaults(func=_with_retries_reported(_run_sentry))

    bugsink = sources.add_parser(
        "bugsink",
        help="pull from a Bugsink server (mapped to Sentry's shapes)",
        description=(
            "Pull issues and their latest events from Bugsink's canonical API into "
            "OUT/sentry_errors.json, in Sentry's {issue, latestEvent} shape. "
            "Environment: BUGSINK_BASE_URL, BUGSINK_TOKEN, BUGSINK_PROJECT."
        ),
    )
    bugsink.add_argument(
        "--limit", type=_non_negative, default=0, metavar="N", help="issues wanted; 0 = all (default)"
    )
    bugsink.add_argument(
        "--state",
        default="open",
        choices=BUGSINK_STATES,
        help="issue state (default: open)",
    )
    bugsink.add_argument("--query", default="", metavar="Q", help="Bugsink search: text or tag:value")
    _add_common(bugsink)
    bugsink.set_defaults(func=_with_retries_reported(_run_bugsink))


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--concurrency",
        type=_positive,
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"requests in flight at once (default: {DEFAULT_CONCURRENCY}; never above the server's limit)",
    )
    add_out_option(parser)
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar (default: on a terminal, off in CI)",
    )


def _non_negative(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {raw!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {value}")
    return value


def _positive(raw: str) -> int:
    value = _non_negative(raw)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _report(report: PullReport) -> int:
    info(f"selfheal: {report.summary()}")
    if report.events_missing:
        info(
            f"selfheal: {len(report.events_missing)} issues kept with latestEvent null "
            "(their latest event could not be fetched)"
        )
    return 0


def _print_retry(details: RetryDetails) -> None:
    from selfheal.sources._http import describe_retry

    info(f"selfheal: {describe_retry(details.retry_num, details.wait_for, details.caused_by)}")


@contextmanager
def _retries_reported() -> Iterator[None]:
    """Retries print one readable line each (instead of stamina's bare log records)."""
    from stamina.instrumentation import get_on_retry_hooks, set_on_retry_hooks

    previous = get_on_retry_hooks()
    set_on_retry_hooks([_print_retry])
    try:
        yield
    finally:
        set_on_retry_hooks(list(previous))


def _with_retries_reported(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def wrapped(args: argparse.Namespace) -> int:
        with _retries_reported():
            return run(args)

    return wrapped


def _run_sentry(args: argparse.Namespace) -> int:
    from selfheal.pipeline import record_pull
    from selfheal.sources.sentry_pull import SentryQuery, pull_sentry

    settings = SentrySettings.from_env()
    query = SentryQuery.from_options(
        settings,
        # the CLI's --limit: unset = SENTRY_ERROR_LIMIT, 0 = every issue
        limit=settings.limit if args.limit is None else args.limit or None,
        projects=tuple(args.project),
        environment=args.environment,
        query=args.query,
        stats_period=args.stats_period,
        group_stats_period=args.group_stats_period,
        sort=args.sort,
        since=args.since,
        until=args.until,
    )
    report = pull_sentry(
        settings,
        query,
        out=in_project(args.out),  # the project's out/, from any sub-folder
        concurrency=args.concurrency,
        progress=args.progress,
    )
    chosen = ",".join(query.projects) or "all projects"
    record_pull(report.path, "sentry", f"{settings.org}/{chosen}")
    return _report(report)


def _run_bugsink(args: argparse.Namespace) -> int:
    from selfheal.pipeline import record_pull
    from selfheal.sources.bugsink import BugsinkQuery, pull_bugsink

    settings = BugsinkSettings.from_env()
    # the CLI's --limit 0 = every issue
    query = BugsinkQuery(limit=args.limit or None, state=args.state, query=args.query)
    report = pull_bugsink(
        settings,
        query,
        out=in_project(args.out),  # the project's out/, from any sub-folder
        concurrency=args.concurrency,
        progress=args.progress,
    )
    record_pull(report.path, "bugsink", f"project {settings.project}")
    return _report(report)
