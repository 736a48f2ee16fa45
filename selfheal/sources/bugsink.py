"""Pull issues and their latest events from Bugsink, in Sentry's shapes.

Bugsink (a self-hosted error tracker that accepts events from the official sentry-sdk) has
its own read API — ``/api/canonical/0/`` with ``{next, previous, results}`` cursor pages and
events in the SDK's raw snake_case payload.
``pull_bugsink`` lists a project's issues, fetches each one's newest event (event list, then
detail) through the same :class:`~selfheal.sources._http.ApiClient` and engine
(:mod:`selfheal.sources._pull`: pagination, pairing, progress, the output file) as the Sentry
source, and maps both into Sentry's ``{"issue": ..., "latestEvent": ...}`` so
``out/sentry_errors.json`` and everything downstream stays the same.

The mapping functions (:func:`sentry_issue_from_bugsink`, :func:`sentry_event_from_bugsink`)
are pure; GlitchTip's ``apps/issue_events/schema.py`` renames frames the same way.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from selfheal.errors import BugsinkError, ConfigError
from selfheal.records import as_dict, as_list, as_text
from selfheal.settings import BUGSINK_STATES, BugsinkSettings
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

__all__ = [
    "API_ROOT",
    "STATES",
    "BugsinkQuery",
    "pull_bugsink",
    "pull_bugsink_async",
    "sentry_event_from_bugsink",
    "sentry_issue_from_bugsink",
]

API_ROOT = "api/canonical/0"
BUGSINK_CREDENTIALS_HINT = (
    "set BUGSINK_TOKEN to a token made with `bugsink-manage create_auth_token` (tokens grant full access)"
)
STATES = BUGSINK_STATES


# ------------------------------------------------------------------------------ mapping (pure)
def _iso(value: Any) -> str | None:
    """SDK timestamps are ISO strings or epoch seconds; Sentry's API always says ISO."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value if isinstance(value, str) and value else None


def _exception_values(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    raw = data.get("exception")
    values = raw if isinstance(raw, list) else as_list(as_dict(raw).get("values"))
    return [value for value in values if isinstance(value, dict)]


def _frame(raw: Mapping[str, Any]) -> dict[str, Any]:
    """One SDK frame (snake_case, split context) as a Sentry API frame (camelCase, pairs)."""
    lineno = raw.get("lineno")
    context: list[list[Any]] = []
    if isinstance(lineno, int):
        before = [line for line in as_list(raw.get("pre_context")) if isinstance(line, str)]
        after = [line for line in as_list(raw.get("post_context")) if isinstance(line, str)]
        context = [[lineno - len(before) + offset, line] for offset, line in enumerate(before)]
        if isinstance(raw.get("context_line"), str):
            context.append([lineno, raw["context_line"]])
        context += [[lineno + 1 + offset, line] for offset, line in enumerate(after)]
    return {
        "filename": raw.get("filename"),
        "absPath": raw.get("abs_path"),
        "module": raw.get("module"),
        "package": raw.get("package"),
        "platform": raw.get("platform"),
        "function": raw.get("function"),
        "lineNo": lineno if isinstance(lineno, int) else None,
        "colNo": raw.get("colno") if isinstance(raw.get("colno"), int) else None,
        # Bugsink stores what the SDK sent; without in_app, say "unknown" (null) like Sentry may.
        "inApp": raw["in_app"] if isinstance(raw.get("in_app"), bool) else None,
        "context": context,
        "vars": raw.get("vars"),
        "instructionAddr": raw.get("instruction_addr"),
        "symbolAddr": raw.get("symbol_addr"),
        "symbol": raw.get("symbol"),
        "trust": None,
        "errors": None,
    }


def _crash_frame(values: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    if not values:
        return {}
    frames = [f for f in as_list(as_dict(values[-1].get("stacktrace")).get("frames")) if isinstance(f, dict)]
    in_app = [f for f in frames if f.get("in_app") is True]
    return (in_app or frames or [{}])[-1]


def _title(exc_type: str, value: str, fallback: str) -> str:
    first_line = value.splitlines()[0] if value else ""
    if exc_type and first_line:
        return f"{exc_type}: {first_line}"
    return exc_type or first_line or fallback or "<unknown>"


def _culprit(issue: Mapping[str, Any], crash: Mapping[str, Any]) -> str:
    transaction = as_text(issue.get("transaction"))
    if transaction:
        return transaction
    where = as_text(crash.get("module")) or as_text(crash.get("filename"))
    function = as_text(crash.get("function"))
    return f"{where} in {function}" if where and function else where or function


def _message(data: Mapping[str, Any]) -> str:
    logentry = as_dict(data.get("logentry"))
    return (
        as_text(logentry.get("formatted")) or as_text(logentry.get("message")) or as_text(data.get("message"))
    )


def sentry_issue_from_bugsink(
    issue: Mapping[str, Any],
    event_data: Mapping[str, Any] | None,
    project: Mapping[str, Any],
) -> dict[str, Any]:
    """A Bugsink issue (plus its latest event's SDK payload) as a Sentry API issue."""
    data = event_data or {}
    values = _exception_values(data)
    crash = _crash_frame(values)
    exc_type = as_text(issue.get("calculated_type"))
    value = as_text(issue.get("calculated_value"))
    mechanism = as_dict(values[-1].get("mechanism")) if values else {}
    # ``origin`` (ours; Sentry's metadata is free-form) lets normalize say "bugsink", not "sentry".
    metadata: dict[str, Any] = {"type": exc_type, "value": value, "origin": "bugsink"}
    if crash.get("filename") or crash.get("abs_path"):
        metadata["filename"] = crash.get("filename") or crash.get("abs_path")
    if crash.get("function"):
        metadata["function"] = crash["function"]
    if issue.get("is_resolved"):
        status = "resolved"
    elif issue.get("is_muted"):
        status = "ignored"
    else:
        status = "unresolved"
    count = issue.get("digested_event_count")
    return {
        "id": str(issue.get("id", "")),
        "shortId": as_text(issue.get("friendly_id")),
        "title": _title(exc_type, value, _message(data)),
        "culprit": _culprit(issue, crash),
        "permalink": None,
        "level": as_text(data.get("level")) or "error",
        "status": status,
        "substatus": None,
        "platform": as_text(data.get("platform")) or None,
        "type": "error" if values else "default",
        "issueType": "error",
        "issueCategory": "error",
        "metadata": metadata,
        "count": str(count if isinstance(count, int) else 0),
        "firstSeen": issue.get("first_seen"),
        "lastSeen": issue.get("last_seen"),
        "isUnhandled": mechanism.get("handled") is False,
        "project": {
            "id": str(project.get("id", issue.get("project", ""))),
            "name": as_text(project.get("name")),
            "slug": as_text(project.get("slug")) or as_text(project.get("name")),
            "platform": as_text(data.get("platform")) or None,
        },
        "stats": {},
    }


def _pairs(value: Any) -> list[list[str]]:
    if isinstance(value, dict):
        return [[str(k), str(v)] for k, v in value.items()]
    if isinstance(value, str):
        return [[k, v[0] if v else ""] for k, v in parse_qs(value, keep_blank_values=True).items()]
    return [[str(p[0]), str(p[1])] for p in as_list(value) if isinstance(p, list | tuple) and len(p) == 2]


def sentry_event_from_bugsink(event: Mapping[str, Any], issue: Mapping[str, Any]) -> dict[str, Any]:
    """A Bugsink event detail (``data`` = the SDK payload) as a Sentry API event."""
    data = as_dict(event.get("data"))
    values = _exception_values(data)
    exc_type = as_text(issue.get("calculated_type")) or (as_text(values[-1].get("type")) if values else "")
    value = as_text(issue.get("calculated_value")) or (as_text(values[-1].get("value")) if values else "")
    event_id = (as_text(data.get("event_id")) or as_text(event.get("event_id"))).replace("-", "")
    tags = [{"key": str(k), "value": str(v)} for k, v in as_dict(data.get("tags")).items()]
    # SDKs may also send tags as [[key, value], ...]
    tags += [{"key": k, "value": v} for k, v in _pairs(as_list(data.get("tags")))]
    present = {tag["key"] for tag in tags}
    for key in ("environment", "release", "level", "server_name"):
        if as_text(data.get(key)) and key not in present:
            tags.append({"key": key, "value": as_text(data[key])})
    if values:
        handled = as_dict(values[-1].get("mechanism")).get("handled")
        if isinstance(handled, bool) and "handled" not in present:
            tags.append({"key": "handled", "value": "yes" if handled else "no"})
    entries: list[dict[str, Any]] = []
    if values:
        exceptions = [
            {
                "type": exc.get("type"),
                "value": exc.get("value"),
                "module": exc.get("module"),
                "threadId": exc.get("thread_id"),
                "mechanism": exc.get("mechanism"),
                "stacktrace": {
                    "frames": [
                        _frame(f)
                        for f in as_list(as_dict(exc.get("stacktrace")).get("frames"))
                        if isinstance(f, dict)
                    ],
                    "framesOmitted": None,
                    "registers": None,
                    "hasSystemFrames": False,
                },
                "rawStacktrace": None,
            }
            for exc in values
        ]
        entries.append(
            {
                "type": "exception",
                "data": {"values": exceptions, "excOmitted": None, "hasSystemFrames": False},
            }
        )
    message = _message(data)
    if message:
        entries.append({"type": "message", "data": {"formatted": message}})
    request = as_dict(data.get("request"))
    if request:
        entries.append(
            {
                "type": "request",
                "data": {
                    "url": request.get("url"),
                    "method": request.get("method"),
                    "query": _pairs(request.get("query_string")),
                    "headers": _pairs(request.get("headers")),
                    "cookies": _pairs(request.get("cookies")),
                    "data": request.get("data"),
                    "env": request.get("env"),
                    "fragment": request.get("fragment"),
                    "inferredContentType": None,
                },
            }
        )
    crumbs = [c for c in as_list(as_dict(data.get("breadcrumbs")).get("values")) if isinstance(c, dict)]
    if crumbs:
        entries.append({"type": "breadcrumbs", "data": {"values": crumbs}})
    release = as_text(data.get("release"))
    return {
        "id": event_id,
        "eventID": event_id,
        "groupID": str(issue.get("id", event.get("issue", ""))),
        "projectID": str(event.get("project", issue.get("project", ""))),
        "title": _title(exc_type, value, message),
        "message": message,
        "culprit": _culprit(issue, _crash_frame(values)),
        "location": None,
        "platform": as_text(data.get("platform")) or None,
        "type": "error" if values else "default",
        "metadata": {"type": exc_type, "value": value},
        "dateCreated": _iso(data.get("timestamp")) or event.get("timestamp"),
        "dateReceived": event.get("ingested_at"),
        "tags": tags,
        "user": data.get("user") if isinstance(data.get("user"), dict) else None,
        "contexts": as_dict(data.get("contexts")),
        "release": {"version": release} if release else None,
        "sdk": data.get("sdk") if isinstance(data.get("sdk"), dict) else None,
        "dist": data.get("dist"),
        "packages": as_dict(data.get("modules")),
        "entries": entries,
        "errors": [],
        "fingerprints": [str(f) for f in as_list(data.get("fingerprint"))],
    }


# ------------------------------------------------------------------------------ fetching
def _next_cursor(page: JsonResponse) -> str | None:
    """The cursor in a ``{next, previous, results}`` page's ``next`` URL (only the cursor:
    the URL's host is whatever Bugsink believes it is)."""
    next_url = as_dict(page.data).get("next")
    if not isinstance(next_url, str) or not next_url:
        return None
    values = parse_qs(urlsplit(next_url).query).get("cursor")
    return values[0] if values else None


def _results(page: JsonResponse) -> list[Any]:
    """The ``results`` of a ``{next, previous, results}`` page."""
    data = as_dict(page.data)
    if "results" not in data:
        raise BugsinkError("expected a {next, previous, results} page", status=page.status, url=page.url)
    return as_list(data["results"])


async def _find_project(client: ApiClient, wanted: str) -> dict[str, Any]:
    """The project by id (one request) or by slug/name (listing projects)."""
    if wanted.isdigit():
        response = await client.get_json(f"{API_ROOT}/projects/{wanted}/", urgent=True)
        project = as_dict(response.data)
        if not project:
            raise BugsinkError("expected a project object", status=response.status, url=response.url)
        return project
    listing = paginate(client, f"{API_ROOT}/projects/", None, next_cursor=_next_cursor)
    async with aclosing(listing) as pages:
        async for page in pages:
            for project in _results(page):
                if isinstance(project, dict) and wanted in {project.get("slug"), project.get("name")}:
                    return project
    raise ConfigError("BUGSINK_PROJECT", f"no Bugsink project with id, slug or name {wanted!r}")


@dataclass(frozen=True, slots=True)
class BugsinkQuery:
    """Which issues a Bugsink pull asks for: one value, checked when it is made."""

    #: Issues wanted; ``None`` = every issue.
    limit: int | None = None
    #: Issue state: ``open`` (default), ``unresolved``, ``resolved``, ``muted`` or ``all``.
    state: str = "open"
    #: Bugsink's ``q`` (text or ``tag:value``); ``""`` = every issue of the state.
    query: str = ""

    def __post_init__(self) -> None:
        check_limit(self.limit)
        if self.state not in STATES:
            raise ConfigError("--state", f"must be one of {', '.join(STATES)}, got {self.state!r}")


async def pull_bugsink_async(
    settings: BugsinkSettings,
    query: BugsinkQuery | None = None,
    *,
    out: Path,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: bool | None = None,
    retry: RetryPolicy | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> PullReport:
    """Pull a Bugsink project's issues with their newest events into ``out/sentry_errors.json``.

    ``query``: which issues (:class:`BugsinkQuery`; ``None`` = every open issue). Issue ids in
    the output are Bugsink's UUIDs; ``shortId`` is its friendly id (``DEMO-APP-2``). Raises
    :class:`~selfheal.errors.RemoteError` (``service="Bugsink"``;
    :class:`~selfheal.errors.BugsinkError` for an answer that is not Bugsink's shape) and
    :class:`~selfheal.errors.ConfigError` for an unknown project.
    """
    wanted = BugsinkQuery() if query is None else query
    check_concurrency(concurrency)
    began = time.monotonic()

    async with ApiClient(
        settings.base_url,
        settings.token,
        service="Bugsink",
        credentials_hint=BUGSINK_CREDENTIALS_HINT,
        concurrency=concurrency,
        retry=retry,
        transport=transport,
    ) as client:
        project = await _find_project(client, settings.project)
        params: dict[str, str] = {
            "project": str(project.get("id")),
            "state": wanted.state,
            "sort": "last_seen",
            "order": "desc",
        }
        if wanted.query:
            params["q"] = wanted.query

        async def issue_pages() -> AsyncIterator[Sequence[Issue]]:
            listing = paginate(client, f"{API_ROOT}/issues/", params, next_cursor=_next_cursor)
            async with aclosing(listing) as pages:
                async for page in pages:
                    yield [issue for issue in _results(page) if isinstance(issue, dict) and "id" in issue]

        async def latest_event(issue: Issue) -> Any:
            listing = await client.get_json(
                f"{API_ROOT}/events/", {"issue": str(issue["id"]), "order": "desc"}
            )
            newest = next(iter(as_list(as_dict(listing.data).get("results"))), None)
            if not isinstance(newest, dict) or "id" not in newest:
                raise BugsinkError("the issue has no stored events", status=404, url=listing.url)
            detail = await client.get_json(f"{API_ROOT}/events/{newest['id']}/")
            return as_dict(detail.data)

        def as_sentry_item(issue: Issue, event: Any) -> dict[str, Any]:
            return {
                "issue": sentry_issue_from_bugsink(
                    issue, as_dict(event).get("data") if event else None, project
                ),
                "latestEvent": sentry_event_from_bugsink(event, issue) if event else None,
            }

        return await pull_to_file(
            client,
            issue_pages(),
            latest_event,
            out=out,
            limit=wanted.limit,
            progress=progress,
            began=began,
            shape=as_sentry_item,
        )


pull_bugsink = blocking(pull_bugsink_async)
