"""A fake Sentry web API: a real HTTP server on 127.0.0.1 for tests, the demo and the benchmark.

It serves a list of ``{"issue": ..., "latestEvent": ...}`` items (the shape of
``out/sentry_errors.json``) the way sentry.io does (facts: ../shared/facts/sentry-api.md):

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
- ``Authorization: Bearer <token>`` checked (401), ``denied_scopes`` answer 403.
- ``X-Sentry-Rate-Limit-{Limit,Remaining,Reset,ConcurrentLimit,ConcurrentRemaining}`` on
  every answer unless ``rate_limit_headers=False`` (self-hosted sends none); a fixed
  window of ``requests_per_window`` and a concurrent limit, both answered with 429 like
  Sentry's ``RatelimitMiddleware`` (no ``Retry-After`` unless ``retry_after`` is set).
- ``latency`` seconds per request, an in-flight counter (``max_in_flight``), a request
  log (``requests``), random faults (:class:`RandomFaults`) and scripted ones
  (:meth:`FakeSentry.inject`): 5xx, 429, slow answers (client timeouts), truncated JSON
  bodies, dropped connections.

Use it as a context manager (``with FakeSentry.from_export(path) as fake: fake.base_url``),
or in-process without sockets through :meth:`FakeSentry.transport`.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import random
import re
import socket
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import httpx

from selfheal.errors import InputError
from selfheal.storage import read_json

__all__ = [
    "FakeSentry",
    "LoopbackFake",
    "RandomFaults",
    "RecordedRequest",
    "synthetic_export",
]

FaultKind = Literal[
    "error", "rate_limit", "timeout", "truncate", "disconnect", "drip", "endless", "html", "redirect_away"
]

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


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the fake answered (or started answering, for faults)."""

    method: str
    path: str
    query: Mapping[str, tuple[str, ...]]
    status: int
    fault: str | None
    authorization: str | None
    started: float
    finished: float

    @property
    def is_event_request(self) -> bool:
        return "/events/" in self.path

    @property
    def is_issue_list_request(self) -> bool:
        return self.path.endswith("/issues/") and "/events/" not in self.path


@dataclass(frozen=True, slots=True)
class RandomFaults:
    """Faults drawn at random per request (seeded, so a failing test can be replayed)."""

    error_rate: float = 0.0
    timeout_rate: float = 0.0
    truncate_rate: float = 0.0
    disconnect_rate: float = 0.0
    rate_limit_rate: float = 0.0
    seed: int = 0


@dataclass(slots=True)
class _ScriptedFault:
    kind: FaultKind
    remaining: int
    path_contains: str
    status: int
    reset_in: float


@dataclass(slots=True)
class _Reply:
    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)
    delay: float = 0.0
    fault: FaultKind | None = None


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


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    fake: LoopbackFake

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out or hang up mid-answer are part of the game, not errors.
        return


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a real API server
    disable_nagle_algorithm = True
    server: _Server
    timeout = 60

    def setup(self) -> None:
        super().setup()
        self.server.fake._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.fake._track(self.connection, add=False)

    def do_GET(self) -> None:
        self.server.fake._serve_socket(self)

    def do_POST(self) -> None:
        self.server.fake._serve_socket(self)

    def log_message(self, format: str, *args: Any) -> None:
        return


class LoopbackFake:
    """The plumbing every fake API server shares: a ThreadingHTTPServer on 127.0.0.1 port 0
    (HTTP/1.1 keep-alive, no Nagle), a request log, an in-flight counter, per-request
    latency, scripted and random faults, and an in-process transport.

    Subclasses answer requests in :meth:`_reply`.
    """

    def __init__(
        self,
        *,
        token: str,
        path_prefix: str = "",
        latency: float = 0.0,
        slow_seconds: float = 5.0,
        faults: RandomFaults | None = None,
    ) -> None:
        self.token = token
        self.path_prefix = "/" + path_prefix.strip("/") if path_prefix.strip("/") else ""
        self.latency = latency
        self.slow_seconds = slow_seconds
        self.faults = faults or RandomFaults()
        self._rng = random.Random(self.faults.seed)
        self._lock = threading.Lock()
        self._log: list[RecordedRequest] = []
        self._scripted: list[_ScriptedFault] = []
        self._in_flight = 0
        self._max_in_flight = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        #: Seconds between two bytes of a ``drip`` fault.
        self.drip_interval = 5.0
        self._stopping = threading.Event()

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> Self:
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:  # wake handler threads parked on keep-alive sockets
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(
                f"{type(self).__name__} is not running; use it as a context manager or call start()"
            )
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """What ``SENTRY_BASE_URL`` should be (scheme, host, port and path prefix)."""
        return f"http://127.0.0.1:{self.port}{self.path_prefix}"

    def _port_or_zero(self) -> int:
        return int(self._server.server_address[1]) if self._server is not None else 0

    def transport(self) -> httpx.AsyncBaseTransport:
        """An in-process transport (no sockets) answering exactly like the server."""
        return _InProcessTransport(self)

    # ----------------------------------------------------------------- inspection
    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._log)

    @property
    def max_in_flight(self) -> int:
        with self._lock:
            return self._max_in_flight

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no request is being answered (slow answers finish after clients gave up)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._in_flight == 0:
                    return True
            time.sleep(0.01)
        return False

    # ----------------------------------------------------------------- faults
    def inject(
        self,
        kind: FaultKind,
        *,
        count: int = 1,
        path_contains: str = "",
        status: int = 503,
        reset_in: float = 1.0,
    ) -> None:
        """Answer the next ``count`` matching requests with a fault.

        ``error`` answers ``status`` (5xx, or any 4xx to test non-retryable answers);
        ``rate_limit`` a 429 whose ``Reset`` is ``reset_in`` seconds ahead; ``timeout`` answers
        after ``slow_seconds``; ``truncate`` cuts the JSON body in half (with a matching
        Content-Length); ``disconnect`` drops the connection mid-body; ``drip`` sends a valid
        answer one byte every :attr:`drip_interval` seconds; ``endless`` streams a JSON array
        that never ends (until the client hangs up); ``html`` answers 200 with the HTML page of
        a proxy or captive portal; ``redirect_away`` answers 302 to the same path on another
        origin (``http://localhost:<port>``).
        """
        with self._lock:
            self._scripted.append(_ScriptedFault(kind, count, path_contains, status, reset_in))

    # ----------------------------------------------------------------- serving
    def _track(self, connection: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def _serve_socket(self, handler: _Handler) -> None:
        started = time.time()
        authorization = handler.headers.get("Authorization")
        with self._lock:
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
            in_flight = self._in_flight
        reply = self._reply(handler.command, handler.path, authorization, in_flight)
        try:
            if reply.delay > 0:
                time.sleep(reply.delay)
        finally:
            # Counted out before the answer is written: the client frees its slot only after
            # reading the answer, so a well-behaved client never looks over the limit.
            self._record(handler.command, handler.path, reply, authorization, started)
            with self._lock:
                self._in_flight -= 1
        if reply.fault in ("drip", "endless"):
            self._stream_fault(handler, reply)
            return
        body = reply.body
        handler.send_response(reply.status)
        for name, value in reply.headers:
            handler.send_header(name, value)
        if reply.fault == "truncate":
            body = body[: max(1, len(body) // 2)]
        handler.send_header("Content-Length", str(len(reply.body if reply.fault == "disconnect" else body)))
        if reply.fault == "disconnect":
            handler.send_header("Connection", "close")
            handler.close_connection = True
        handler.end_headers()
        if reply.fault == "disconnect":
            handler.wfile.write(body[: len(body) // 2])
            handler.wfile.flush()
            handler.connection.shutdown(socket.SHUT_RDWR)
            return
        handler.wfile.write(body)

    def _stream_fault(self, handler: _Handler, reply: _Reply) -> None:
        """A drip (one byte per interval) or an endless body; stops when the client hangs up."""
        handler.send_response(reply.status)
        for name, value in reply.headers:
            handler.send_header(name, value)
        if reply.fault == "drip":
            handler.send_header("Content-Length", str(len(reply.body)))
        handler.send_header("Connection", "close")
        handler.close_connection = True
        handler.end_headers()
        try:
            if reply.fault == "drip":
                for index in range(len(reply.body)):
                    handler.wfile.write(reply.body[index : index + 1])
                    handler.wfile.flush()
                    if self._stopping.wait(self.drip_interval):
                        return
                return
            handler.wfile.write(b"[")
            item = b'{"issue": {"id": "1", "title": "endless"}, "latestEvent": null},' * 1024
            while not self._stopping.is_set():
                handler.wfile.write(item)
        except OSError:
            return  # the client hung up: the point of the fault

    def _record(
        self, method: str, raw_path: str, reply: _Reply, authorization: str | None, started: float
    ) -> None:
        split = urlsplit(raw_path)
        query = {key: tuple(values) for key, values in parse_qs(split.query, keep_blank_values=True).items()}
        entry = RecordedRequest(
            method=method,
            path=split.path,
            query=query,
            status=reply.status,
            fault=reply.fault,
            authorization=authorization,
            started=started,
            finished=time.time(),
        )
        with self._lock:
            self._log.append(entry)

    def _draw_fault(self, path: str) -> _ScriptedFault | FaultKind | None:
        with self._lock:
            for scripted in self._scripted:
                if scripted.remaining > 0 and scripted.path_contains in path:
                    scripted.remaining -= 1
                    return _ScriptedFault(scripted.kind, 1, "", scripted.status, scripted.reset_in)
            roll = self._rng.random()
        faults = self.faults
        for kind, rate in (
            ("error", faults.error_rate),
            ("timeout", faults.timeout_rate),
            ("truncate", faults.truncate_rate),
            ("disconnect", faults.disconnect_rate),
            ("rate_limit", faults.rate_limit_rate),
        ):
            if roll < rate:
                return kind  # type: ignore[return-value]  # the literals above are FaultKind
            roll -= rate
        return None

    def _reply(self, method: str, raw_path: str, authorization: str | None, in_flight: int) -> _Reply:
        raise NotImplementedError

    def _route_target(self, raw_path: str) -> tuple[str, dict[str, list[str]]] | None:
        """Path (without the configured prefix) and query of a request; None outside the prefix."""
        split = urlsplit(raw_path)
        path = split.path
        if self.path_prefix:
            if not path.startswith(self.path_prefix + "/"):
                return None
            path = path[len(self.path_prefix) :]
        return path, parse_qs(split.query, keep_blank_values=True)

    def _fault_reply(self, fault: _ScriptedFault | FaultKind, headers: list[tuple[str, str]]) -> _Reply:
        scripted = fault if isinstance(fault, _ScriptedFault) else _ScriptedFault(fault, 1, "", 503, 1.0)
        if scripted.kind in ("error", "rate_limit"):
            status = scripted.status if scripted.kind == "error" else 429
            return self._json(status, {"detail": "Internal Error"}, headers, fault=scripted.kind)
        if scripted.kind == "timeout":
            reply = self._json(503, {"detail": "too slow"}, headers, fault="timeout")
            reply.delay = self.slow_seconds
            return reply
        if scripted.kind == "html":
            page = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>Proxy login</body></html>"
            return _Reply(status=200, body=page, headers=[("Content-Type", "text/html")], fault="html")
        if scripted.kind == "redirect_away":
            target = f"http://localhost:{self.port}/elsewhere/"
            return _Reply(status=302, body=b"", headers=[("Location", target)], fault="redirect_away")
        if scripted.kind in ("drip", "endless"):
            reply = self._json(200, [], headers, fault=scripted.kind)
            reply.body = b"[" + b" " * 200 + b"]"  # valid JSON, long enough to drip for minutes
            return reply
        # truncate / disconnect: a good answer that arrives broken
        reply = self._json(200, [{"issue": "the body is cut here"}] * 20, headers, fault=scripted.kind)
        reply.delay = self.latency
        return reply

    @staticmethod
    def _json(
        status: int,
        payload: Any,
        headers: list[tuple[str, str]] | None = None,
        *,
        fault: FaultKind | None = None,
    ) -> _Reply:
        body = json.dumps(payload).encode()
        all_headers = [("Content-Type", "application/json"), *(headers or [])]
        return _Reply(status=status, body=body, headers=all_headers, fault=fault)


class FakeSentry(LoopbackFake):
    """A Sentry API stand-in; see the module docstring for what it serves."""

    def __init__(
        self,
        items: Sequence[Mapping[str, Any]] = (),
        *,
        org: str = "acme",
        token: str = "fake-sentry-token",  # noqa: S107 (a fake server's well-known test token)
        path_prefix: str = "",
        latency: float = 0.0,
        concurrent_limit: int = 25,
        rate_limit_headers: bool = True,
        requests_per_window: int = 1_000_000,
        window: float = 1.0,
        retry_after: float | None = None,
        denied_scopes: Iterable[str] = (),
        page_overlap: int = 0,
        slow_seconds: float = 5.0,
        faults: RandomFaults | None = None,
        public_url: str | None = None,
    ) -> None:
        super().__init__(
            token=token, path_prefix=path_prefix, latency=latency, slow_seconds=slow_seconds, faults=faults
        )
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

    def _reply(self, method: str, raw_path: str, authorization: str | None, in_flight: int) -> _Reply:
        target = self._route_target(raw_path)
        if target is None:
            return self._json(404, {"detail": "Not found"})
        path, query = target
        rate_headers, window_exhausted = self._rate_window(in_flight)
        if authorization is None:
            return self._json(401, {"detail": "Authentication credentials were not provided."}, rate_headers)
        if authorization != f"Bearer {self.token}":
            return self._json(401, {"detail": "Invalid token"}, rate_headers)
        fault = self._draw_fault(path)
        if fault is not None:
            return self._fault_reply(fault, rate_headers)
        if in_flight > self.concurrent_limit:
            body = _TOO_CONCURRENT.format(limit=self.concurrent_limit)
            return self._json(429, body, rate_headers, fault="rate_limit")
        if window_exhausted:
            reply = self._json(
                429,
                _TOO_FREQUENT.format(limit=self.requests_per_window, window=f"{self.window:g}"),
                rate_headers,
                fault="rate_limit",
            )
            if self.retry_after is not None:
                reply.headers.append(("Retry-After", f"{self.retry_after:g}"))
            return reply
        if method != "GET":
            return self._json(405, {"detail": f'Method "{method}" not allowed.'}, rate_headers)
        reply = self._route(path, query, rate_headers)
        reply.delay = max(reply.delay, self.latency)
        return reply

    def _org_or_project(self, path: str, rate_headers: list[tuple[str, str]]) -> _Reply | None:
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

    def _route(self, path: str, query: dict[str, list[str]], rate_headers: list[tuple[str, str]]) -> _Reply:
        org_or_project = self._org_or_project(path, rate_headers)
        if org_or_project is not None:
            return org_or_project
        if "event:read" in self.denied_scopes and path.startswith(_API):
            return self._json(
                403, {"detail": "You do not have permission to perform this action."}, rate_headers
            )
        if match := _ISSUES_LIST.match(path):
            if match["org"] != self.org:
                return self._json(404, {"detail": "The requested resource does not exist"}, rate_headers)
            return self._issue_page(path, query, rate_headers)
        if match := _ORG_EVENT.match(path):
            if match["org"] != self.org:
                return self._json(404, {"detail": "The requested resource does not exist"}, rate_headers)
            return self._event(match["issue"], match["event"], rate_headers)
        if match := _LEGACY_EVENT.match(path):
            return self._event(match["issue"], match["event"], rate_headers)
        if match := _ISSUE.match(path):
            if match["org"] != self.org:
                return self._json(404, {"detail": "The requested resource does not exist"}, rate_headers)
            item = self._find(match["issue"])
            if item is None:
                return self._json(404, {"detail": "The requested resource does not exist"}, rate_headers)
            return self._json(200, item["issue"], rate_headers)
        return self._json(404, {"detail": "The requested resource does not exist"}, rate_headers)

    def _issue_page(
        self, path: str, query: dict[str, list[str]], rate_headers: list[tuple[str, str]]
    ) -> _Reply:
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
            where = f"http://127.0.0.1:{self._port_or_zero()}{quote(self.path_prefix + path)}"
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

    def _event(self, issue_id: str, event_id: str, rate_headers: list[tuple[str, str]]) -> _Reply:
        item = self._find(issue_id)
        event = item.get("latestEvent") if item is not None else None
        if item is None:
            return self._json(404, {"detail": "The requested resource does not exist"}, rate_headers)
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

    def _fault_reply(self, fault: _ScriptedFault | FaultKind, rate_headers: list[tuple[str, str]]) -> _Reply:
        scripted = fault if isinstance(fault, _ScriptedFault) else _ScriptedFault(fault, 1, "", 503, 1.0)
        if scripted.kind == "error":
            return self._json(scripted.status, {"detail": "Internal Error"}, rate_headers, fault="error")
        if scripted.kind == "rate_limit":
            # Sentry sends Reset as whole epoch seconds.
            reset_at = math.ceil(time.time() + scripted.reset_in)
            replaced = {"X-Sentry-Rate-Limit-Reset", "X-Sentry-Rate-Limit-Remaining"}
            headers = [header for header in rate_headers if header[0] not in replaced]
            if self.rate_limit_headers:
                headers += [
                    ("X-Sentry-Rate-Limit-Remaining", "0"),
                    ("X-Sentry-Rate-Limit-Reset", str(reset_at)),
                ]
            if self.retry_after is not None:
                headers.append(("Retry-After", f"{self.retry_after:g}"))
            body = _TOO_FREQUENT.format(limit=self.requests_per_window, window=f"{self.window:g}")
            return self._json(429, body, headers, fault="rate_limit")
        if scripted.kind == "timeout":
            reply = self._json(503, {"detail": "too slow"}, rate_headers, fault="timeout")
            reply.delay = self.slow_seconds
            return reply
        if scripted.kind in ("html", "redirect_away", "drip", "endless"):
            return super()._fault_reply(scripted, rate_headers)
        # truncate / disconnect: a good answer that arrives broken
        reply = self._json(200, [{"issue": "the body is cut here"}] * 20, rate_headers, fault=scripted.kind)
        reply.delay = self.latency
        return reply


def _link(base: str, rel: str, cursor: str, *, has_results: bool) -> str:
    results = "true" if has_results else "false"
    return f'<{base}&cursor={cursor}>; rel="{rel}"; results="{results}"; cursor="{cursor}"'


class _InProcessTransport(httpx.AsyncBaseTransport):
    """Answers through the fake's routing without sockets (latency via asyncio.sleep)."""

    def __init__(self, fake: LoopbackFake) -> None:
        self._fake = fake

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        import asyncio

        fake = self._fake
        started = time.time()
        raw_path = request.url.raw_path.decode("ascii")
        authorization = request.headers.get("Authorization")
        with fake._lock:
            fake._in_flight += 1
            fake._max_in_flight = max(fake._max_in_flight, fake._in_flight)
            in_flight = fake._in_flight
        reply = fake._reply(request.method, raw_path, authorization, in_flight)
        try:
            if reply.fault == "timeout":
                raise httpx.ReadTimeout("fake timeout", request=request)
            if reply.fault == "disconnect":
                raise httpx.RemoteProtocolError("peer closed connection", request=request)
            if reply.delay > 0:
                await asyncio.sleep(reply.delay)
        finally:
            fake._record(request.method, raw_path, reply, authorization, started)
            with fake._lock:
                fake._in_flight -= 1
        body = reply.body[: max(1, len(reply.body) // 2)] if reply.fault == "truncate" else reply.body
        return httpx.Response(reply.status, headers=reply.headers, content=body, request=request)


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


def _project_slug(item: Mapping[str, Any]) -> str:
    project = item["issue"].get("project")
    return str(project.get("slug", "")) if isinstance(project, Mapping) else ""
