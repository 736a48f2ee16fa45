"""A fake Sentry web API: a real HTTP server on 127.0.0.1 for tests, the demo and the benchmark.

It serves a list of ``{"issue": ..., "latestEvent": ...}`` items (the shape of
``out/sentry_errors.json``) in the shapes Sentry documents for its issue and event endpoints,
with the pagination and rate limiting sentry.io applies:

- ``GET {prefix}/api/0/organizations/{org}/issues/`` — a top-level JSON array, at most 100
  per page (``limit``), ``project`` (slug or id, repeatable), ``query`` (``is:unresolved``,
  ``is:resolved``, ``is:ignored``; other terms ignored), ``sort`` (``date``, ``new``, ``freq``),
  ``cursor``; a ``Link`` header built like Sentry's ``build_cursor_link``
  (``<url&cursor=0:100:0>; rel="next"; results="true"; cursor="0:100:0"``).
  ``environment``, ``statsPeriod``, ``start``/``end`` are accepted and logged, not applied.
- ``GET {prefix}/api/0/organizations/{org}/issues/{id}/`` — one issue.
- ``GET {prefix}/api/0/organizations/{org}/issues/{id}/events/{latest|oldest|recommended|id}/``
  and the legacy ``/api/0/(issues|groups)/{id}/events/...`` — the item's ``latestEvent``
  (404 when it is null or absent).
- ``organizations/{org}/``, ``organizations/{org}/projects/``, ``projects/{org}/{slug}/``
  (what ``selfheal doctor`` reads).
- ``Authorization: Bearer <token>`` checked (401), ``denied_scopes`` answer 403.
- ``X-Sentry-Rate-Limit-{Limit,Remaining,Reset,ConcurrentLimit,ConcurrentRemaining}`` on
  every answer unless ``rate_limit_headers=False`` (self-hosted sends none); a fixed
  window of ``requests_per_window`` and a concurrent limit, both answered with 429 like
  Sentry's ``RatelimitMiddleware`` (no ``Retry-After`` unless ``retry_after`` is set).

Lifecycle, latency, the request log, the in-flight counter, faults (``inject``,
``RandomFaults``) and the in-process transport come from
:class:`~selfheal.testing._server.LoopbackFake`. Use it as a context manager
(``with FakeSentry.from_export(path) as fake: fake.base_url``), or in-process without sockets
through :meth:`FakeSentry.transport`.
"""

from __future__ import annotations

import copy
import json
import math
import random
import re
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Self, Unpack
from urllib.parse import quote, urlencode, urlsplit

from selfheal.errors import InputError
from selfheal.storage import read_json
from selfheal.testing._server import Fault, IncomingRequest, LoopbackFake, Reply, ServerOptions

__all__ = ["FakeSentry", "synthetic_export"]

_API = "/api/0"
_ISSUES_LIST = re.compile(r"^/api/0/organizations/(?P<org>[^/]+)/issues/$")
_ISSUE = re.compile(r"^/api/0/organizations/(?P<org>[^/]+)/(?:issues|groups)/(?P<issue>[^/]+)/$")
_ORG_EVENT = re.compile(
    r"^/api/0/organizations/(?P<org>[^/]+)/(?:issues|groups)/(?P<issue>[^/]+)/events/(?P<event>[^/]+)/$"
)
_LEGACY_EVENT = re.compile(r"^/api/0/(?:issues|groups)/(?P<issue>[^/]+)/events/(?P<event>[^/]+)/$")
_ORG = re.compile(r"^/api/0/organizations/(?P<org>[^/]+)/$")
_ORG_PROJECTS = re.compile(r"^/api/0/organizations/(?P<org>[^/]+)/projects/$")
_PROJECT = re.compile(r"^/api/0/projects/(?P<org>[^/]+)/(?P<project>[^/]+)/$")
_DENIED = {"detail": "You do not have permission to perform this action."}
_MISSING = {"detail": "The requested resource does not exist"}
_MAX_PAGE = 100
_TOO_FREQUENT = (
    "You are attempting to use this endpoint too frequently. Limit is {limit} requests in {window} seconds"
)
_TOO_CONCURRENT = (
    "You are attempting to go above the allowed concurrency for this endpoint. Concurrency limit is {limit}"
)


def _load_example(name: str) -> Any:
    text = resources.files("selfheal.data").joinpath("sentry_api", name).read_text(encoding="utf-8")
    return json.loads(text)["response_body"]


def synthetic_export(count: int, *, project: str = "pump-station", seed: int = 0) -> list[dict[str, Any]]:
    """``count`` distinct unresolved issues with their latest events, built from Sentry's
    documented examples (issue ids ``"1001"``…, lastSeen descending so ``sort=date`` keeps
    the list order)."""
    rng = random.Random(seed)
    issue_template = _load_example("sentry_docs_example_org_issues_list.json")[0]
    event_template = _load_example("sentry_docs_example_issue_event_detail.json")
    base = 1_700_000_000
    items: list[dict[str, Any]] = []
    for index in range(count):
        issue_id = str(1001 + index)
        issue = copy.deepcopy(issue_template)
        title = f"ValueError: synthetic failure #{index} in handler_{index % 17}"
        last_seen = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(base - index * 60))
        issue.update(
            id=issue_id,
            shortId=f"{project.upper()}-{index + 1}",
            title=title,
            culprit=f"app.handlers.handler_{index % 17} in handle",
            status="unresolved",
            substatus="ongoing",
            count=str(rng.randint(1, 500)),
            userCount=rng.randint(0, 40),
            lastSeen=last_seen,
            metadata={"type": "ValueError", "value": f"synthetic failure #{index}"},
            permalink=f"https://sentry.io/organizations/acme/issues/{issue_id}/",
        )
        issue["project"] = {**issue["project"], "slug": project, "name": project}
        event = copy.deepcopy(event_template)
        event_id = f"{index:032x}"
        event.update(id=event_id, eventID=event_id, groupID=issue_id, title=title)
        items.append({"issue": issue, "latestEvent": event})
    return items


class FakeSentry(LoopbackFake):
    """A Sentry API stand-in; see the module docstring for what it serves."""

    token: str  # always required

    def __init__(
        self,
        items: Sequence[Mapping[str, Any]] = (),
        *,
        org: str = "acme",
        token: str = "fake-sentry-token",  # noqa: S107 (a fake server's well-known test token)
        path_prefix: str = "",
        concurrent_limit: int = 25,
        rate_limit_headers: bool = True,
        requests_per_window: int = 1_000_000,
        window: float = 1.0,
        retry_after: float | None = None,
        denied_scopes: Iterable[str] = (),
        page_overlap: int = 0,
        public_url: str | None = None,
        **server: Unpack[ServerOptions],
    ) -> None:
        super().__init__(token=token, path_prefix=path_prefix, **server)
        self.items = [dict(item) for item in items]
        self.org = org
        self.concurrent_limit = concurrent_limit
        self.rate_limit_headers = rate_limit_headers
        self.requests_per_window = requests_per_window
        self.window = window
        self.retry_after = retry_after
        self.denied_scopes = frozenset(denied_scopes)
        self.page_overlap = page_overlap
        #: The address Sentry believes it has (its ``system.url-prefix``); used in ``Link``
        #: headers. Differs from ``base_url`` behind proxies and region routing.
        self.public_url = public_url
        self._window_start = 0.0
        self._window_count = 0
        self._event_bodies: dict[int, bytes] = {}

    # ----------------------------------------------------------------- construction
    @classmethod
    def from_export(cls, export: str | Path | Sequence[Mapping[str, Any]], **options: Any) -> Self:
        """Serve an ``[{issue, latestEvent}]`` export (a path to the JSON file, or the list)."""
        items: Any = read_json(export) if isinstance(export, str | Path) else export
        where = str(export) if isinstance(export, str | Path) else "<export>"
        if not isinstance(items, list):
            raise InputError(where, "expected a JSON list of {issue, latestEvent} items")
        for position, item in enumerate(items):
            if (
                not isinstance(item, dict)
                or not isinstance(item.get("issue"), dict)
                or "id" not in item["issue"]
            ):
                raise InputError(where, f"item {position} has no issue with an id")
        return cls(items, **options)

    @classmethod
    def synthetic(cls, count: int, **options: Any) -> Self:
        """Serve ``count`` generated issues (see :func:`synthetic_export`)."""
        return cls(synthetic_export(count), **options)

    def issue_ids(self, *, query: str = "is:unresolved", sort: str = "date") -> list[str]:
        """The ids the issue list would return, in order (what a complete pull must yield)."""
        return [str(item["issue"]["id"]) for item in self._select({"query": [query], "sort": [sort]})]

    def _reply(self, request: IncomingRequest, in_flight: int) -> Reply:
        path = self._route_target(request)
        if path is None:
            return self._json(404, {"detail": "Not found"})
        query = request.query
        rate_headers, window_exhausted = self._rate_window(in_flight)
        if request.authorization is None:
            return self._json(401, {"detail": "Authentication credentials were not provided."}, rate_headers)
        if request.authorization != f"Bearer {self.token}":
            return self._json(401, {"detail": "Invalid token"}, rate_headers)
        faulted = self._faulted(request, rate_headers, lambda: self._route(path, query, rate_headers))
        if faulted is not None:
            return faulted
        if in_flight > self.concurrent_limit:
            body = _TOO_CONCURRENT.format(limit=self.concurrent_limit)
            return self._json(429, body, rate_headers, fault="rate_limit")
        if window_exhausted:
            return self._too_frequent(rate_headers)
        if request.method != "GET":
            return self._json(405, {"detail": f'Method "{request.method}" not allowed.'}, rate_headers)
        reply = self._route(path, query, rate_headers)
        reply.delay = max(reply.delay, self.latency)
        return reply

    def _too_frequent(self, rate_headers: list[tuple[str, str]]) -> Reply:
        body = _TOO_FREQUENT.format(limit=self.requests_per_window, window=f"{self.window:g}")
        reply = self._json(429, body, rate_headers, fault="rate_limit")
        if self.retry_after is not None:
            reply.set_header("Retry-After", f"{self.retry_after:g}")
        return reply

    def _rate_limited(self, fault: Fault, headers: list[tuple[str, str]]) -> Reply:
        reply = self._too_frequent(headers)
        if self.rate_limit_headers:
            reply.set_header("X-Sentry-Rate-Limit-Remaining", "0")
            # Sentry sends Reset as whole epoch seconds.
            reply.set_header("X-Sentry-Rate-Limit-Reset", str(math.ceil(time.time() + fault.reset_in)))
        return reply

    def _org_or_project(self, path: str, rate_headers: list[tuple[str, str]]) -> Reply | None:
        """``organizations/{org}/`` and ``…/projects/`` (org:read), ``projects/{org}/{slug}/``
        (project:read): what ``selfheal doctor`` reads. Scopes are denied per endpoint."""
        for pattern, scope in ((_ORG, "org:read"), (_ORG_PROJECTS, "org:read"), (_PROJECT, "project:read")):
            match = pattern.match(path)
            if match is None:
                continue
            if scope in self.denied_scopes:
                return self._json(403, _DENIED, rate_headers)
            if match["org"] != self.org:
                return self._json(404, _MISSING, rate_headers)
            projects = sorted({str(_project_slug(item)) for item in self.items})
            if pattern is _ORG:
                return self._json(200, {"slug": self.org, "name": self.org.title()}, rate_headers)
            if pattern is _ORG_PROJECTS:
                return self._json(200, [{"slug": p, "name": p} for p in projects], rate_headers)
            if match["project"] not in projects:
                return self._json(404, _MISSING, rate_headers)
            return self._json(200, {"slug": match["project"], "name": match["project"]}, rate_headers)
        return None

    def _route(self, path: str, query: dict[str, list[str]], rate_headers: list[tuple[str, str]]) -> Reply:
        org_or_project = self._org_or_project(path, rate_headers)
        if org_or_project is not None:
            return org_or_project
        if "event:read" in self.denied_scopes and path.startswith(_API):
            return self._json(403, _DENIED, rate_headers)
        if match := _ISSUES_LIST.match(path):
            if match["org"] != self.org:
                return self._json(404, _MISSING, rate_headers)
            return self._issue_page(path, query, rate_headers)
        if match := _ORG_EVENT.match(path):
            if match["org"] != self.org:
                return self._json(404, _MISSING, rate_headers)
            return self._event(match["issue"], match["event"], rate_headers)
        if match := _LEGACY_EVENT.match(path):
            return self._event(match["issue"], match["event"], rate_headers)
        if match := _ISSUE.match(path):
            if match["org"] != self.org:
                return self._json(404, _MISSING, rate_headers)
            item = self._find(match["issue"])
            if item is None:
                return self._json(404, _MISSING, rate_headers)
            return self._json(200, item["issue"], rate_headers)
        return self._json(404, _MISSING, rate_headers)

    def _issue_page(
        self, path: str, query: dict[str, list[str]], rate_headers: list[tuple[str, str]]
    ) -> Reply:
        selected = self._select(query)
        try:
            limit = min(int((query.get("limit") or ["100"])[0]), _MAX_PAGE)
        except ValueError:
            return self._json(400, {"detail": "Invalid limit"}, rate_headers)
        limit = max(limit, 1)
        cursor = (query.get("cursor") or ["0:0:0"])[0]
        try:
            offset = int(cursor.split(":")[1])
        except (IndexError, ValueError):
            return self._json(400, {"detail": "Invalid cursor parameter."}, rate_headers)
        page = [item["issue"] for item in selected[offset : offset + limit]]
        next_offset = offset + limit - min(self.page_overlap, limit)  # overlap >= limit: never advances
        prev_offset = max(offset - limit, 0)
        base = self._link_base(path, query)
        links = ", ".join(
            [
                _link(base, "previous", f"0:{prev_offset}:1", has_results=offset > 0),
                _link(base, "next", f"0:{next_offset}:0", has_results=offset + limit < len(selected)),
            ]
        )
        reply = self._json(200, page, rate_headers)
        reply.headers.append(("Link", links))
        reply.headers.append(("X-Hits", str(len(selected))))
        return reply

    def _link_base(self, path: str, query: dict[str, list[str]]) -> str:
        # Sentry: absolute_uri(urlquote(request.path)) + "?" + the query minus the cursor.
        rest = [(key, value) for key, values in query.items() if key != "cursor" for value in values]
        if self.public_url:  # Sentry builds Link URLs from its configured public address
            split = urlsplit(self.public_url)
            where = f"{split.scheme}://{split.netloc}{quote(split.path.rstrip('/') + path)}"
        else:
            where = f"{self._origin()}{quote(self.path_prefix + path)}"
        return f"{where}?{urlencode(rest)}"

    def _select(self, query: Mapping[str, list[str]]) -> list[dict[str, Any]]:
        projects = {p for p in query.get("project", []) if p and p != "-1"}
        statuses = set()
        for term in " ".join(query.get("query", ["is:unresolved"])).split():
            if term.startswith("is:") and term[3:] in {"unresolved", "resolved", "ignored"}:
                statuses.add(term[3:])
        selected = []
        for item in self.items:
            issue = item["issue"]
            project = issue.get("project") or {}
            if projects and not ({str(project.get("slug")), str(project.get("id"))} & projects):
                continue
            if statuses and issue.get("status", "unresolved") not in statuses:
                continue
            selected.append(item)
        sort = (query.get("sort") or ["date"])[0]
        key = {"date": "lastSeen", "new": "firstSeen"}.get(sort)
        if key is not None:
            selected.sort(key=lambda item: str(item["issue"].get(key) or ""), reverse=True)
        elif sort == "freq":
            selected.sort(key=lambda item: int(str(item["issue"].get("count") or 0)), reverse=True)
        return selected

    def _find(self, issue_id: str) -> dict[str, Any] | None:
        for item in self.items:
            issue = item["issue"]
            if str(issue.get("id")) == issue_id or issue.get("shortId") == issue_id:
                return item
        return None

    def _event(self, issue_id: str, event_id: str, rate_headers: list[tuple[str, str]]) -> Reply:
        item = self._find(issue_id)
        event = item.get("latestEvent") if item is not None else None
        if item is None:
            return self._json(404, _MISSING, rate_headers)
        if not isinstance(event, dict):
            return self._json(404, {"detail": "Event not found"}, rate_headers)
        if event_id not in {
            "latest",
            "oldest",
            "recommended",
            str(event.get("id")),
            str(event.get("eventID")),
        }:
            return self._json(404, {"detail": "Event not found"}, rate_headers)
        reply = self._json(200, None, rate_headers)
        reply.body = self._encoded_event(event)
        return reply

    def _encoded_event(self, event: dict[str, Any]) -> bytes:
        # Events are large and served often (benchmarks): encode each once.
        key = id(event)
        body = self._event_bodies.get(key)
        if body is None:
            body = json.dumps(event).encode()
            self._event_bodies[key] = body
        return body

    def _rate_window(self, in_flight: int) -> tuple[list[tuple[str, str]], bool]:
        now = time.time()
        with self._lock:
            if now - self._window_start >= self.window:
                self._window_start = now
                self._window_count = 0
            self._window_count += 1
            count = self._window_count
            reset_at = self._window_start + self.window
        exhausted = count > self.requests_per_window
        if not self.rate_limit_headers:
            return [], exhausted
        headers = [
            ("X-Sentry-Rate-Limit-Limit", str(self.requests_per_window)),
            ("X-Sentry-Rate-Limit-Remaining", str(max(self.requests_per_window - count, 0))),
            ("X-Sentry-Rate-Limit-Reset", str(math.ceil(reset_at))),
            ("X-Sentry-Rate-Limit-ConcurrentLimit", str(self.concurrent_limit)),
            (
                "X-Sentry-Rate-Limit-ConcurrentRemaining",
                str(max(self.concurrent_limit - in_flight, 0)),
            ),
        ]
        return headers, exhausted


def _link(base: str, rel: str, cursor: str, *, has_results: bool) -> str:
    results = "true" if has_results else "false"
    return f'<{base}&cursor={cursor}>; rel="{rel}"; results="{results}"; cursor="{cursor}"'


def _project_slug(item: Mapping[str, Any]) -> str:
    project = item["issue"].get("project")
    return str(project.get("slug", "")) if isinstance(project, Mapping) else ""


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m selfheal.testing.fake_sentry``: serve until stdin closes or SIGTERM.

    Prints the base URL on the first line of stdout (for benchmarks and manual tries).
    """
    import argparse
    import signal
    import sys

    parser = argparse.ArgumentParser(prog="python -m selfheal.testing.fake_sentry")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--export", type=Path, help="serve this [{issue, latestEvent}] JSON file")
    source.add_argument("--synthetic", type=int, default=20, help="serve N generated issues")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per request")
    parser.add_argument("--concurrent-limit", type=int, default=25)
    parser.add_argument("--path-prefix", default="")
    parser.add_argument("--org", default="acme")
    parser.add_argument("--no-rate-limit-headers", action="store_true", help="like self-hosted")
    args = parser.parse_args(argv)
    options: dict[str, Any] = {
        "org": args.org,
        "latency": args.latency,
        "concurrent_limit": args.concurrent_limit,
        "path_prefix": args.path_prefix,
        "rate_limit_headers": not args.no_rate_limit_headers,
    }
    fake = (
        FakeSentry.from_export(args.export, **options)
        if args.export
        else FakeSentry.synthetic(args.synthetic, **options)
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with fake:
        print(fake.base_url, flush=True)

        def wait_for_stdin_to_close() -> None:
            sys.stdin.read()
            stop.set()

        threading.Thread(target=wait_for_stdin_to_close, daemon=True).start()
        stop.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
