"""The pulling engine shared by the Sentry and Bugsink sources.

A source says *what* to fetch (its pages of issues, each issue's latest event, how to shape
an item); this module does the rest the same way for both:

- :func:`paginate`: the one pagination loop — page after page, the cursor sent on our own
  base URL, a cursor that comes back is an error, not a hang;
- :func:`collect_issue_events`: pairs every listed issue with its latest event, fetching
  events while the next page is on its way, in the server's order, each issue once;
- :func:`pull_to_file`: runs that with a progress display, encodes finished items while the
  rest are still on the wire (:class:`IncrementalJson`) and writes ``sentry_errors.json``;
- :class:`PullReport`: what a pull did; :func:`run_sync`: the sync-over-async bridge that also
  works inside a running event loop (Jupyter).

Retries, rate limits and the concurrency bound live in :mod:`selfheal.sources._http`.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import sys
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, ParamSpec, Protocol, Self, TypeVar

from selfheal.errors import ConfigError, RemoteError
from selfheal.settings import progress_seconds_from_env
from selfheal.sources._http import ApiClient, JsonResponse
from selfheal.storage import write_text

__all__ = [
    "OUTPUT_NAME",
    "Collected",
    "IncrementalJson",
    "Issue",
    "PullProgress",
    "PullReport",
    "as_item",
    "blocking",
    "check_concurrency",
    "check_limit",
    "collect_issue_events",
    "output_path",
    "paginate",
    "progress_for",
    "pull_to_file",
    "run_sync",
]

#: The file a pull writes when ``out`` is a folder.
OUTPUT_NAME = "sentry_errors.json"

_T = TypeVar("_T")
_P = ParamSpec("_P")
#: One issue as the server listed it (Sentry's or Bugsink's shape).
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
            source=client.service,
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


# ------------------------------------------------------------------------------ options
def check_limit(limit: int | None) -> int | None:
    """``limit`` as the library takes it: ``None`` = every issue, else at least 1."""
    if limit is not None and limit < 1:
        raise ConfigError("--limit", f"must be at least 1 (None = every issue), got {limit}")
    return limit


def check_concurrency(concurrency: int) -> int:
    if concurrency < 1:
        raise ConfigError("--concurrency", f"must be at least 1, got {concurrency}")
    return concurrency


def output_path(out: Path) -> Path:
    """``out`` is the output folder; a path ending in ``.json`` is taken as the file itself."""
    return out if out.suffix == ".json" else out / OUTPUT_NAME


# ------------------------------------------------------------------------------ progress
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


class _LineProgress:
    """Plain lines on stderr for logs (CI): one at least every ``interval`` seconds, and one at the end."""

    def __init__(self, source: str, interval: float) -> None:
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


def progress_for(progress: bool | None, source: str) -> PullProgress:
    """A bar when asked, or by default on a terminal outside CI and outside notebooks.

    By default, when stderr is not a terminal (CI, a pipe), a plain line every
    ``SELFHEAL_PROGRESS_SECONDS`` (5) seconds instead; in a notebook, nothing. ``False``: nothing.
    ``source`` names the service on the bar and the lines.
    """
    if progress is None:
        in_notebook = "ipykernel" in sys.modules
        if sys.stderr.isatty() and not os.environ.get("CI") and not in_notebook:
            return _RichProgress(source)
        return _SilentProgress() if in_notebook else _LineProgress(source, progress_seconds_from_env())
    return _RichProgress(source) if progress else _SilentProgress()


# ------------------------------------------------------------------------------ sync bridge
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


def blocking(coroutine_function: Callable[_P, Coroutine[Any, Any, _T]]) -> Callable[_P, _T]:
    """The blocking form of a pull coroutine: same parameters, same result, same docstring.

    ``pull_sentry = blocking(pull_sentry_async)``: the name drops ``_async``; it runs through
    :func:`run_sync`, so it also works where an event loop already runs (a notebook).
    """

    @functools.wraps(coroutine_function)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        return run_sync(coroutine_function(*args, **kwargs))

    run.__name__ = coroutine_function.__name__.removesuffix("_async")
    run.__qualname__ = coroutine_function.__qualname__.removesuffix("_async")
    run.__doc__ = (
        f"{coroutine_function.__doc__ or ''}\n\n"
        f"Blocking: runs :func:`{coroutine_function.__name__}` to its end (in a worker thread "
        "when an event loop already runs)."
    )
    return run


# ------------------------------------------------------------------------------ encoding
class IncrementalJson:
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


# ------------------------------------------------------------------------------ pagination
async def paginate(
    client: ApiClient,
    url: str,
    params: Mapping[str, str | Sequence[str]] | None,
    *,
    next_cursor: Callable[[JsonResponse], str | None],
    scope: str | None = None,
) -> AsyncGenerator[JsonResponse, None]:
    """Every page of a listing, first to last (the one pagination loop of both sources).

    Pages are urgent requests: they go ahead of queued event fetches, so the listing never
    starves. After each page, ``next_cursor(page)`` gives the cursor of the next one (``None``:
    that was the last). The cursor is sent as the ``cursor`` parameter to ``url`` on the
    client's own base URL: a URL the server names (a ``Link`` header, a ``next`` field) may
    point at another host (a region, a proxy's inner address) and must never receive the
    token. A cursor that comes back is a :class:`~selfheal.errors.RemoteError`, not a hang.
    """
    query: dict[str, str | Sequence[str]] = dict(params or {})
    cursors_seen: set[str] = set()
    while True:
        page = await client.get_json(url, query, scope=scope, urgent=True)
        yield page
        cursor = next_cursor(page)
        if cursor is None:
            return
        if cursor in cursors_seen:
            raise RemoteError(
                client.service, f"pagination loops: cursor {cursor!r} came back again", url=page.url
            )
        cursors_seen.add(cursor)
        query = {**query, "cursor": cursor}


# ------------------------------------------------------------------------------ the engine
def as_item(issue: Issue, event: Any) -> dict[str, Any]:
    """An issue and its latest event as the output keeps them, unchanged (Sentry's)."""
    return {"issue": issue, "latestEvent": event}


@dataclass(frozen=True, slots=True)
class Collected:
    """What :func:`collect_issue_events` gathered."""

    #: ``{"issue": ..., "latestEvent": ...}`` items (as shaped), in the server's order.
    items: list[dict[str, Any]]
    #: Ids of the issues whose latest event could not be fetched, in the server's order.
    missing: list[str]
    #: Pages of issues read.
    pages: int


async def collect_issue_events(
    pages: AsyncIterator[Sequence[Issue]],
    fetch_event: Callable[[Issue], Awaitable[Any]],
    *,
    limit: int | None,
    progress: PullProgress,
    expected: Callable[[], int | None] = lambda: None,
    shape: Callable[[Issue, Any], dict[str, Any]] = as_item,
    on_item_done: Callable[[dict[str, Any]], None] | None = None,
) -> Collected:
    """Pair every listed issue with its latest event, fetching events while paging on.

    Issues keep the server's order and appear once (by ``id``) even when pages overlap; at
    most ``limit`` of them (``None``: all), and no page is read once there are enough. An
    event that fails with a remote error becomes ``None`` and its issue id is reported as
    missing; authentication errors (401, 403) abort the whole pull. ``shape(issue, event)``
    makes the output item; ``on_item_done`` sees each finished item (to encode it while the
    rest are still on the wire). ``expected()`` is the server's total, if it says one.
    """
    items: list[dict[str, Any] | None] = []
    keys: list[str] = []
    missing: set[int] = set()
    seen: set[str] = set()
    tasks: list[asyncio.Task[None]] = []
    pages_read = 0

    async def fill(index: int, issue: Issue) -> None:
        event: Any = None
        try:
            event = await fetch_event(issue)
        except RemoteError as exc:
            if exc.status in (401, 403):
                raise
            missing.add(index)
        item = shape(issue, event)
        items[index] = item
        if on_item_done is not None:
            on_item_done(item)
        progress.event_done()

    try:
        async for page in pages:
            pages_read += 1
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
                items.append(None)
                keys.append(str(issue.get("id")))
                tasks.append(asyncio.create_task(fill(len(items) - 1, issue)))
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
    done = [item for item in items if item is not None]  # all of them: gather() returned
    return Collected(items=done, missing=[keys[i] for i in sorted(missing)], pages=pages_read)


async def pull_to_file(
    client: ApiClient,
    pages: AsyncIterator[Sequence[Issue]],
    fetch_event: Callable[[Issue], Awaitable[Any]],
    *,
    out: Path,
    limit: int | None,
    progress: bool | None,
    began: float,
    expected: Callable[[], int | None] = lambda: None,
    shape: Callable[[Issue, Any], dict[str, Any]] = as_item,
    when_empty: Callable[[], Awaitable[None]] | None = None,
) -> PullReport:
    """Collect issues with their latest events and write them to ``out`` (see :func:`output_path`).

    Progress is shown as :func:`progress_for` decides, named after ``client.service``; items
    are encoded as they finish, and the file is written once, atomically, at the end.
    ``when_empty`` runs (before the file is written) when no issue came back, to tell an empty
    result from a wrong setting. ``began`` is when the pull started (``time.monotonic()``).
    """
    target = output_path(out)
    encoder = IncrementalJson()
    with progress_for(progress, client.service) as bar:
        collected = await collect_issue_events(
            pages,
            fetch_event,
            limit=limit,
            progress=bar,
            expected=expected,
            shape=shape,
            on_item_done=encoder.add,
        )
        if not collected.items and when_empty is not None:
            await when_empty()
    fetch_seconds = time.monotonic() - began
    write_text(target, encoder.text(collected.items))
    return PullReport.of_run(
        target,
        collected.items,
        collected.missing,
        client,
        pages=collected.pages,
        began=began,
        fetch_seconds=fetch_seconds,
    )
