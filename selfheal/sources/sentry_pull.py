"""Pull unresolved issues and their latest events from the Sentry web API.

``pull_sentry`` writes ``out/sentry_errors.json`` — ``[{"issue": ..., "latestEvent": ...}]``
exactly as Sentry returned them, in the server's order, each issue once. Issues come from
``GET /api/0/organizations/{org}/issues/`` (100 a page, following the ``Link`` header's
``next`` cursor while ``results="true"``); each issue's latest event from
``.../issues/{id}/events/latest/``. Event requests for page 1 run while page 2 is being
fetched. Which issues is one :class:`SentryQuery` value, built once from the options and the
settings. Pagination, pairing, progress and the output file are the engine in
:mod:`selfheal.sources._pull` (shared with Bugsink); retries, rate limits and the concurrency
bound live in :mod:`selfheal.sources._http`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import httpx

from selfheal.errors import ConfigError, RemoteError, SentryError
from selfheal.settings import SentrySettings
from selfheal.sources._http import DEFAULT_CONCURRENCY, ApiClient, JsonResponse, RetryPolicy
from selfheal.sources._pull import (
    Issue,
    PullReport,
    blocking,
    check_concurrency,
    check_limit,
    paginate,
    pull_to_file,
)

__all__ = ["PAGE_SIZE", "SentryQuery", "pull_sentry", "pull_sentry_async"]

PAGE_SIZE = 100
SENTRY_CREDENTIALS_HINT = (
    "set SENTRY_AUTH_TOKEN to a token with the scopes event:read, project:read, org:read"
)


def _moment(value: datetime | str | None, option: str) -> datetime | None:
    """An ISO-8601 option (text or a datetime) as an aware datetime; ``None`` or ``""``: not set."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(option, f"must be an ISO-8601 date or time, got {value!r}") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _sentry_time(value: datetime) -> str:
    """A moment as Sentry's ``start``/``end`` take it: UTC, to the second (naive = UTC)."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


@dataclass(frozen=True, slots=True)
class SentryQuery:
    """Which issues a Sentry pull asks for: one value, checked when it is made.

    Build it once with :meth:`from_options` (what is not given comes from the settings) and
    hand it to :func:`pull_sentry`.
    """

    #: Project slugs or ids; ``()`` = every project the token can see.
    projects: tuple[str, ...]
    #: The environment; ``""`` = every environment.
    environment: str
    #: Sentry search (``is:unresolved``).
    query: str
    #: Window of the issues and their counts (``24h``, ``14d``); ``""`` = Sentry's. ``since`` replaces it.
    stats_period: str
    #: Timeline in each issue's ``stats`` (``""``, ``14d``, ``24h``, ``auto``); ``None`` = Sentry's.
    group_stats_period: str | None
    #: Issue order (``date`` = last seen, ``new``, ``trends``, ``freq``, ``user``, ...).
    sort: str
    #: Start of the time range (naive = UTC); replaces ``stats_period``.
    since: datetime | None
    #: End of the time range (needs ``since``); ``None`` with ``since`` = now.
    until: datetime | None
    #: Issues wanted; ``None`` = every issue.
    limit: int | None

    def __post_init__(self) -> None:
        check_limit(self.limit)
        if self.until is not None and self.since is None:
            raise ConfigError("--until", "needs --since as well (Sentry takes a start and an end)")

    @classmethod
    def from_options(
        cls,
        settings: SentrySettings,
        *,
        limit: int | Literal["settings"] | None = "settings",
        projects: Sequence[str] = (),
        environment: str | None = None,
        query: str = "is:unresolved",
        stats_period: str = "14d",
        group_stats_period: str | None = None,
        sort: str = "date",
        since: datetime | str | None = None,
        until: datetime | str | None = None,
    ) -> SentryQuery:
        """The query of one pull: the options given, the rest from ``settings``.

        ``limit``: issues wanted, ``None`` = every issue, ``"settings"`` = ``settings.limit``
        (``SENTRY_ERROR_LIMIT``). ``projects``: ``()`` = ``settings.projects``.
        ``environment``: ``None`` = ``settings.environment``, ``""`` = every environment.
        ``since``/``until``: ISO-8601 text or datetimes, ``""`` = not set. Raises
        :class:`~selfheal.errors.ConfigError` for a value Sentry cannot take.
        """
        return cls(
            projects=tuple(projects) or settings.projects,
            environment=settings.environment if environment is None else environment,
            query=query,
            stats_period=stats_period,
            group_stats_period=group_stats_period,
            sort=sort,
            since=_moment(since, "--since"),
            until=_moment(until, "--until"),
            limit=settings.limit if limit == "settings" else limit,
        )

    @property
    def page_size(self) -> int:
        """Issues asked for per page: 100, or fewer when fewer are wanted."""
        return min(PAGE_SIZE, self.limit) if self.limit is not None else PAGE_SIZE

    def params(self) -> dict[str, str | list[str]]:
        """The query string of the issue listing."""
        params: dict[str, str | list[str]] = {
            "query": self.query,
            "sort": self.sort,
            "limit": str(self.page_size),
        }
        if self.projects:
            params["project"] = list(self.projects)
        if self.environment:
            params["environment"] = [self.environment]
        if self.since is not None:
            params["start"] = _sentry_time(self.since)
            params["end"] = _sentry_time(self.until or datetime.now(UTC))
        elif self.stats_period:
            params["statsPeriod"] = self.stats_period
        if self.group_stats_period is not None:
            params["groupStatsPeriod"] = self.group_stats_period
        return params


def _next_link_cursor(page: JsonResponse) -> str | None:
    """The ``Link`` header's ``next`` cursor while it says ``results="true"``."""
    following = page.links.get("next", {})
    cursor = following.get("cursor")
    if following.get("results") != "true" or not cursor or not page.data:
        return None
    return cursor


async def _check_projects(client: ApiClient, settings: SentrySettings, projects: Sequence[str]) -> None:
    """After an empty pull: a project that does not exist is an error naming SENTRY_PROJECT."""
    for project in projects:
        try:
            await client.get_json(f"api/0/projects/{settings.org}/{project}/", None, scope="project:read")
        except RemoteError as exc:
            if exc.status != 404:
                return  # cannot tell (no project:read scope, …): an empty result stays empty
            known = ""
            try:
                listed = await client.get_json(
                    f"api/0/organizations/{settings.org}/projects/", None, scope="org:read"
                )
                found = listed.data if isinstance(listed.data, list) else []
                slugs = [str(p.get("slug")) for p in found if isinstance(p, dict)][:20]
                known = f"; its projects: {', '.join(slugs)}" if slugs else ""
            except RemoteError:
                pass
            raise SentryError(
                f"project {project!r} not found in organization {settings.org!r}: check SENTRY_PROJECT "
                f"(or --project){known}",
                status=404,
                url=exc.url,
            ) from exc


async def pull_sentry_async(
    settings: SentrySettings,
    query: SentryQuery | None = None,
    *,
    out: Path,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: bool | None = None,
    retry: RetryPolicy | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> PullReport:
    """Pull issues and latest events into ``out/sentry_errors.json``; return what happened.

    ``query``: which issues (:meth:`SentryQuery.from_options`); ``None`` = everything from the
    settings (``SENTRY_PROJECT``, ``SENTRY_ENV``, ``SENTRY_ERROR_LIMIT``), unresolved, last
    14 days. ``out``: the folder, or a path ending in ``.json``. ``concurrency``: requests in
    flight at once (never above the server's advertised limit). ``progress``: ``None`` = a bar
    on a terminal, lines in CI, nothing in a notebook. Raises
    :class:`~selfheal.errors.RemoteError` (``service="Sentry"``; :class:`~selfheal.errors.SentryError`
    for an unknown organization or project) and :class:`~selfheal.errors.ConfigError` for bad
    options.
    """
    wanted = SentryQuery.from_options(settings) if query is None else query
    check_concurrency(concurrency)
    org_path = f"api/0/organizations/{settings.org}"
    began = time.monotonic()
    hits: list[int | None] = [None]

    async with ApiClient(
        settings.base_url,
        settings.token,
        service="Sentry",
        credentials_hint=SENTRY_CREDENTIALS_HINT,
        concurrency=concurrency,
        retry=retry,
        transport=transport,
    ) as client:

        async def issue_pages() -> AsyncIterator[Sequence[Issue]]:
            listing = paginate(
                client,
                f"{org_path}/issues/",
                wanted.params(),
                next_cursor=_next_link_cursor,
                scope="event:read",
            )
            first = True
            try:
                async with aclosing(listing) as pages:
                    async for page in pages:
                        first = False
                        if not isinstance(page.data, list):
                            raise SentryError(
                                "expected a JSON list of issues", status=page.status, url=page.url
                            )
                        hit_header = page.headers.get("X-Hits", "")
                        hits[0] = int(hit_header) if hit_header.isdigit() else hits[0]
                        yield [issue for issue in page.data if isinstance(issue, dict) and "id" in issue]
            except RemoteError as exc:
                if exc.status == 404 and first:
                    raise SentryError(
                        f"organization {settings.org!r} not found at {settings.base_url}; check "
                        "SENTRY_ORG (the slug in your Sentry URL) and SENTRY_BASE_URL (a region "
                        "host such as https://de.sentry.io, or your self-hosted address)",
                        status=404,
                        url=exc.url,
                    ) from exc
                raise

        event_params = {"environment": wanted.environment} if wanted.environment else None

        async def latest_event(issue: Issue) -> Any:
            url = f"{org_path}/issues/{issue['id']}/events/latest/"
            response = await client.get_json(url, event_params, scope="event:read")
            return response.data if isinstance(response.data, dict) else None

        async def when_empty() -> None:
            if wanted.projects:
                await _check_projects(client, settings, wanted.projects)

        return await pull_to_file(
            client,
            issue_pages(),
            latest_event,
            out=out,
            limit=wanted.limit,
            progress=progress,
            began=began,
            expected=lambda: hits[0],
            when_empty=when_empty,
        )


pull_sentry = blocking(pull_sentry_async)
