"""Pull unresolved issues and their latest events from the Sentry web API.

``pull_sentry`` writes ``out/sentry_errors.json`` — ``[{"issue": ..., "latestEvent": ...}]``
exactly as Sentry returned them, in the server's order, each issue once. Issues come from
``GET /api/0/organizations/{org}/issues/`` (100 a page, following the ``Link`` header's
``next`` cursor while ``results="true"``); each issue's latest event from
``.../issues/{id}/events/latest/``. Event requests for page 1 run while page 2 is being
fetched; retries, rate limits and the concurrency bound live in :mod:`selfheal.sources._http`.

The engine in :func:`collect_issue_events` is shared with the Bugsink source.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar

import httpx

from selfheal.errors import ConfigError, SentryError
from selfheal.settings import SentrySettings
from selfheal.sources._http import DEFAULT_CONCURRENCY, ApiClient, RetryPolicy
from selfheal.storage import write_text

__all__ = [
    "OUTPUT_NAME",
    "PullProgress",
    "PullReport",
    "collect_issue_events",
    "output_path",
    "progress_for",
    "pull_sentry",
    "pull_sentry_async",
    "run_sync",
]

OUTPUT_NAME = "sentry_errors.json"
PAGE_SIZE = 100
SENTRY_CREDENTIALS_HINT = (
    "set SENTRY_AUTH_TOKEN to a token with the scopes event:read, project:read, org:read"
)

_T = TypeVar("_T")
Issue = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class PullReport:
    """What a pull did: counts for the summary line and for tests."""

    path: Path
    issues: int
    events_fetched: int
    #: Issue ids whose latest event could not be fetched (``latestEvent`` is null for them).
    events_missing: tuple[str, ...]
    requests: int
    retries: int
    pages: int
    #: Wall time of the whole pull, writing the file included.
    elapsed: float
    #: Wall time of the network part (listing issues and fetching their events).
    fetch_seconds: float
    max_in_flight: int
    source: str = "Sentry"

    @classmethod
    def of_run(
        cls,
        path: Path,
        items: Sequence[Mapping[str, Any]],
        missing: Sequence[str],
        client: ApiClient,
        *,
        pages: int,
        began: float,
        fetch_seconds: float,
        source: str = "Sentry",
    ) -> PullReport:
        """The report of a finished pull: counts from its items and its client."""
        return cls(
            path=path,
            issues=len(items),
            events_fetched=len(items) - len(missing),
            events_missing=tuple(missing),
            requests=client.requests,
            retries=client.retries,
            pages=pages,
            elapsed=time.monotonic() - began,
            fetch_seconds=fetch_seconds,
            max_in_flight=client.max_in_flight,
            source=source,
        )

    def summary(self) -> str:
        missing = len(self.events_missing)
        shown = ", ".join(self.events_missing[:5]) + (", ..." if missing > 5 else "")
        missing_text = f"{missing} missing ({shown})" if missing else "0 missing"
        return (
            f"pulled {self.issues} issues from {self.source}: {self.events_fetched} latest events, "
            f"{missing_text}; {self.requests} requests ({self.retries} retries, "
            f"{self.pages} pages) in {self.elapsed:.1f} s -> {self.path}"
        )


class PullProgress(Protocol):
    """Where a pull reports progress (a rich bar on a terminal, nothing otherwise)."""

    def issues_listed(self, count: int, expected: int | None) -> None: ...

    def event_done(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class _SilentProgress:
    def issues_listed(self, count: int, expected: int | None) -> None:
        return

    def event_done(self) -> None:
        return

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        return


class _RichProgress:
    """Two bars on stderr: issues listed, latest events fetched."""

    def __init__(self, source: str) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self._issues = self._progress.add_task(f"{source} issues", total=None)
        self._events = self._progress.add_task("latest events", total=0)
        self._listed = 0

    def issues_listed(self, count: int, expected: int | None) -> None:
        self._listed += count
        self._progress.update(self._issues, completed=self._listed, total=expected)
        self._progress.update(self._events, total=self._listed)

    def event_done(self) -> None:
        self._progress.advance(self._events)

    def __enter__(self) -> Self:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.update(self._issues, total=self._listed)
        self._progress.stop()


#: Seconds between two progress lines when stderr is not a terminal (CI logs).
LINE_PROGRESS_SECONDS = 5.0


class _LineProgress:
    """Plain lines on stderr for logs (CI): one at least every ``interval`` seconds, and one at the end."""

    def __init__(self, source: str, interval: float = LINE_PROGRESS_SECONDS) -> None:
        self._source = source
        self._interval = interval
        self._listed = 0
        self._expected: int | None = None
        self._events = 0
        self._began = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, name="selfheal-progress", daemon=True)

    def _line(self, final: bool = False) -> None:
        of = f" of {self._expected}" if self._expected is not None else ""
        state = "done" if final else "pulling"
        elapsed = time.monotonic() - self._began
        print(
            f"selfheal: {self._source} {state}: {self._listed}{of} issues listed, "
            f"{self._events} latest events fetched ({elapsed:.0f} s)",
            file=sys.stderr,
            flush=True,
        )

    def _tick(self) -> None:
        while not self._stop.wait(self._interval):
            self._line()

    def issues_listed(self, count: int, expected: int | None) -> None:
        self._listed += count
        self._expected = expected

    def event_done(self) -> None:
        self._events += 1

    def __enter__(self) -> Self:
        self._began = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        if exc_type is None:  # a failure prints its one error line, nothing more
            self._line(final=True)


def progress_for(progress: bool | None, source: str = "Sentry") -> PullProgress:
    """A bar when asked, or by default on a terminal outside CI and outside notebooks.

    By default, when stderr is not a terminal (CI, a pipe), a plain line every
    :data:`LINE_PROGRESS_SECONDS` seconds instead; in a notebook, nothing. ``False``: nothing.
    """
    if progress is None:
        in_notebook = "ipykernel" in sys.modules
        if sys.stderr.isatty() and not os.environ.get("CI") and not in_notebook:
            return _RichProgress(source)
        return _SilentProgress() if in_notebook else _LineProgress(source)
    return _RichProgress(source) if progress else _SilentProgress()


def output_path(out: Path) -> Path:
    """``out`` is the output folder; a path ending in ``.json`` is taken as the file itself."""
    return out if out.suffix == ".json" else out / OUTPUT_NAME


def run_sync(coroutine: Coroutine[Any, Any, _T]) -> _T:
    """Run a coroutine to completion, also from inside a running loop (Jupyter)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    outcome: dict[str, Any] = {}

    def runner() -> None:
        try:
            outcome["value"] = asyncio.run(coroutine)
        except BaseException as exc:  # re-raised in the calling thread below
            outcome["error"] = exc

    thread = threading.Thread(target=runner, name="selfheal-pull")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    value: _T = outcome["value"]
    return value


class _IncrementalJson:
    """Encodes finished items one by one, so writing the output overlaps with fetching.

    The text is exactly what :func:`selfheal.storage.write_json` writes for the whole list
    (``json.dumps(items, indent=2, ensure_ascii=False)``), just produced piecewise.
    """

    def __init__(self) -> None:
        self._chunks: dict[int, str] = {}

    def add(self, item: dict[str, Any]) -> None:
        encoded = json.dumps(item, indent=2, ensure_ascii=False)
        self._chunks[id(item)] = "  " + encoded.replace("\n", "\n  ")

    def text(self, items: Sequence[dict[str, Any]]) -> str:
        if not items:
            return "[]\n"
        chunks = [self._chunks.get(id(item)) for item in items]
        body = ",\n".join(
            chunk
            if chunk is not None
            else "  " + json.dumps(item, indent=2, ensure_ascii=False).replace("\n", "\n  ")
            for chunk, item in zip(chunks, items, strict=True)
        )
        return f"[\n{body}\n]\n"


@dataclass(slots=True)
class _Collected:
    items: list[dict[str, Any]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


async def collect_issue_events(
    pages: AsyncIterator[Sequence[Issue]],
    fetch_event: Callable[[Issue], Awaitable[Any]],
    *,
    limit: int | None,
    progress: PullProgress,
    expected: Callable[[], int | None] = lambda: None,
    on_item_done: Callable[[dict[str, Any]], None] | None = None,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Pair every listed issue with its latest event, fetching events while paging on.

    Issues keep the server's order and appear once (by ``id``) even when pages overlap.
    An event that fails with a remote error becomes ``None`` and its issue id is returned
    in the missing list; authentication errors abort the whole pull. ``on_item_done`` sees
    each finished item (to encode it while the rest are still on the wire).
    """
    collected = _Collected()
    seen: set[str] = set()
    tasks: list[asyncio.Task[None]] = []

    async def fill(slot: dict[str, Any]) -> None:
        try:
            slot["latestEvent"] = await fetch_event(slot["issue"])
        except SentryError as exc:
            if exc.status in (401, 403):
                raise
            collected.missing.append(str(slot["issue"].get("id")))
        if on_item_done is not None:
            on_item_done(slot)
        progress.event_done()

    try:
        async for page in pages:
            fresh: list[Issue] = []
            for issue in page:
                key = str(issue.get("id"))
                if key in seen:
                    continue
                if limit is not None and len(seen) >= limit:
                    break
                seen.add(key)
                fresh.append(issue)
            total = expected()
            if limit is not None:
                total = limit if total is None else min(total, limit)
            progress.issues_listed(len(fresh), total)
            for issue in fresh:
                slot: dict[str, Any] = {"issue": issue, "latestEvent": None}
                collected.items.append(slot)
                tasks.append(asyncio.create_task(fill(slot)))
            if limit is not None and len(seen) >= limit:
                break
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    finally:
        aclose = getattr(pages, "aclose", None)
        if aclose is not None:
            await aclose()
    missing = set(collected.missing)
    return collected.items, [
        str(slot["issue"].get("id")) for slot in collected.items if str(slot["issue"].get("id")) in missing
    ]


def _iso(value: datetime | str | None, option: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(option, f"must be an ISO-8601 date or time, got {value!r}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


@dataclass(frozen=True, slots=True)
class _IssueQuery:
    projects: tuple[str, ...]
    environment: str
    query: str
    stats_period: str
    group_stats_period: str | None
    sort: str
    start: str | None
    end: str | None

    def params(self, page_size: int) -> dict[str, str | list[str]]:
        params: dict[str, str | list[str]] = {
            "query": self.query,
            "sort": self.sort,
            "limit": str(page_size),
        }
        if self.projects:
            params["project"] = list(self.projects)
        if self.environment:
            params["environment"] = [self.environment]
        if self.start or self.end:
            params["start"] = self.start or ""
            params["end"] = self.end or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        elif self.stats_period:
            params["statsPeriod"] = self.stats_period
        if self.group_stats_period is not None:
            params["groupStatsPeriod"] = self.group_stats_period
        return params


async def _check_projects(client: ApiClient, settings: SentrySettings, projects: Sequence[str]) -> None:
    """After an empty pull: a project that does not exist is an error naming SENTRY_PROJECT."""
    for project in projects:
        try:
            await client.get_json(f"api/0/projects/{settings.org}/{project}/", None, scope="project:read")
        except SentryError as exc:
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
            except SentryError:
                pass
            raise SentryError(
                f"project {project!r} not found in organization {settings.org!r}: check SENTRY_PROJECT "
                f"(or --project){known}",
                status=404,
                url=exc.url,
            ) from exc


async def pull_sentry_async(
    settings: SentrySettings,
    *,
    out: Path,
    limit: int | None = None,
    projects: Sequence[str] = (),
    environment: str | None = None,
    query: str = "is:unresolved",
    stats_period: str = "14d",
    group_stats_period: str | None = None,
    sort: str = "date",
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: bool | None = None,
    retry: RetryPolicy | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> PullReport:
    """The coroutine behind :func:`pull_sentry` (await it from async code or a notebook)."""
    wanted = settings.limit if limit is None else limit
    if wanted < 0:
        raise ConfigError("--limit", f"must not be negative, got {wanted}")
    if concurrency < 1:
        raise ConfigError("--concurrency", f"must be at least 1, got {concurrency}")
    start, end = _iso(since, "--since"), _iso(until, "--until")
    if end and not start:
        raise ConfigError("--until", "needs --since as well (Sentry takes a start and an end)")
    issue_query = _IssueQuery(
        projects=tuple(projects) or settings.projects,
        environment=settings.environment if environment is None else environment,
        query=query,
        stats_period=stats_period,
        group_stats_period=group_stats_period,
        sort=sort,
        start=start,
        end=end,
    )
    target = output_path(out)
    max_issues = wanted or None
    page_size = min(PAGE_SIZE, max_issues) if max_issues else PAGE_SIZE
    org_path = f"api/0/organizations/{settings.org}"
    began = time.monotonic()
    pages_fetched = 0
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
            nonlocal pages_fetched
            params = issue_query.params(page_size)
            cursors_seen: set[str] = set()
            while True:
                try:
                    page = await client.get_json(
                        f"{org_path}/issues/", params, scope="event:read", urgent=True
                    )
                except SentryError as exc:
                    if exc.status == 404 and not cursors_seen:
                        raise SentryError(
                            f"organization {settings.org!r} not found at {settings.base_url}; check "
                            "SENTRY_ORG (the slug in your Sentry URL) and SENTRY_BASE_URL (a region "
                            "host such as https://de.sentry.io, or your self-hosted address)",
                            status=404,
                            url=exc.url,
                        ) from exc
                    raise
                pages_fetched += 1
                if not isinstance(page.data, list):
                    raise SentryError("expected a JSON list of issues", status=page.status, url=page.url)
                hit_header = page.headers.get("X-Hits", "")
                hits[0] = int(hit_header) if hit_header.isdigit() else hits[0]
                yield [issue for issue in page.data if isinstance(issue, dict) and "id" in issue]
                following = page.links.get("next", {})
                cursor = following.get("cursor")
                if following.get("results") != "true" or not cursor or not page.data:
                    return
                if cursor in cursors_seen:
                    raise SentryError(f"pagination loops: cursor {cursor!r} came back again", url=page.url)
                cursors_seen.add(cursor)
                # Follow the cursor on our own base URL: Link URLs may name another host
                # (a region, or a proxy's inner address) and must never receive the token.
                params = {**params, "cursor": cursor}

        event_params = {"environment": issue_query.environment} if issue_query.environment else None

        async def latest_event(issue: Issue) -> Any:
            url = f"{org_path}/issues/{issue['id']}/events/latest/"
            response = await client.get_json(url, event_params, scope="event:read")
            return response.data if isinstance(response.data, dict) else None

        encoder = _IncrementalJson()
        with progress_for(progress, "Sentry") as bar:
            items, missing = await collect_issue_events(
                issue_pages(),
                latest_event,
                limit=max_issues,
                progress=bar,
                expected=lambda: hits[0],
                on_item_done=encoder.add,
            )
            if not items and issue_query.projects:
                await _check_projects(client, settings, issue_query.projects)
        fetch_seconds = time.monotonic() - began
        write_text(target, encoder.text(items))
        return PullReport.of_run(
            target, items, missing, client, pages=pages_fetched, began=began, fetch_seconds=fetch_seconds
        )


def pull_sentry(
    settings: SentrySettings,
    *,
    out: Path,
    limit: int | None = None,
    projects: Sequence[str] = (),
    environment: str | None = None,
    query: str = "is:unresolved",
    stats_period: str = "14d",
    group_stats_period: str | None = None,
    sort: str = "date",
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: bool | None = None,
    retry: RetryPolicy | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> PullReport:
    """Pull issues and latest events into ``out/sentry_errors.json``; return what happened.

    ``limit``: issues wanted (``None`` = ``settings.limit``, ``0`` = all).
    ``projects``/``environment`` default to the settings (``""`` = every environment).
    ``since``/``until`` (ISO-8601) replace ``stats_period``. ``progress``: ``None`` = a bar
    on a terminal only. Raises :class:`~selfheal.errors.SentryError` for remote failures and
    :class:`~selfheal.errors.ConfigError` for bad options.
    """
    return run_sync(
        pull_sentry_async(
            settings,
            out=out,
            limit=limit,
            projects=projects,
            environment=environment,
            query=query,
            stats_period=stats_period,
            group_stats_period=group_stats_period,
            sort=sort,
            since=since,
            until=until,
            concurrency=concurrency,
            progress=progress,
            retry=retry,
            transport=transport,
        )
    )
