"""The loopback HTTP server every API fake is built on (FakeSentry, FakeBugsink, FakeGitHub).

A :class:`LoopbackFake` is a ``ThreadingHTTPServer`` on 127.0.0.1 port 0 (HTTP/1.1 keep-alive,
no Nagle) that a subclass fills with one API's routes and JSON shapes. It brings:

- the lifecycle: :meth:`~LoopbackFake.start`/:meth:`~LoopbackFake.stop` or ``with``,
  :attr:`~LoopbackFake.port`, :attr:`~LoopbackFake.base_url` (with the ``path_prefix``), and
  :meth:`~LoopbackFake.transport`, an in-process httpx transport that answers the same way
  without sockets;
- a request log (:attr:`~LoopbackFake.requests`, one :class:`RecordedRequest` per answer) and
  an in-flight counter (:attr:`~LoopbackFake.max_in_flight`, :meth:`~LoopbackFake.wait_idle`);
- ``latency`` seconds per answer;
- one fault vocabulary (:data:`FaultKind`), scripted with :meth:`~LoopbackFake.inject` (by
  method, path pattern and count) or drawn at random per request (:class:`RandomFaults`);
- a bug in a fake answers **418** (never a 5xx, which clients would retry) and is kept in
  :attr:`~LoopbackFake.errors`.

Subclasses answer in :meth:`LoopbackFake._reply` and say where faults apply with
:meth:`LoopbackFake._faulted`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal, Self, TypedDict
from urllib.parse import parse_qs, unquote, urlsplit

import httpx

__all__ = [
    "PROXY_PAGE",
    "Fault",
    "FaultKind",
    "IncomingRequest",
    "LoopbackFake",
    "RandomFaults",
    "RecordedRequest",
    "Reply",
    "ServerOptions",
]

FaultKind = Literal[
    "error", "rate_limit", "timeout", "truncate", "disconnect", "drip", "endless", "html", "redirect_away"
]

#: What a corporate proxy or captive portal answers instead of the API (the ``html`` fault).
PROXY_PAGE = (
    b"<!DOCTYPE html><html><head><title>Access denied</title></head>"
    b"<body><h1>Web filter</h1><p>Please sign in to continue.</p></body></html>"
)

_HTML = "text/html; charset=utf-8"
#: A JSON answer long enough to cut in half (``truncate``, ``disconnect``).
_CUT_BODY = [{"id": "1", "title": "the body is cut here"}] * 20
#: One chunk of the ``endless`` JSON array.
_ENDLESS_CHUNK = b'{"id": "1", "title": "endless"},' * 1024


@dataclass(frozen=True, slots=True)
class IncomingRequest:
    """A request as a fake's routes see it."""

    method: str
    #: The path and query as sent (still percent-encoded).
    target: str
    #: The percent-decoded path, path prefix included.
    path: str
    query: dict[str, list[str]]
    #: Header names lower-cased.
    headers: Mapping[str, str]
    #: The JSON body parsed; text when it is not JSON; None when there is none.
    body: Any

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")


def _incoming(method: str, target: str, headers: Iterable[tuple[str, str]], raw: bytes) -> IncomingRequest:
    split = urlsplit(target)
    body: Any = None
    if raw:
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
    return IncomingRequest(
        method=method,
        target=target,
        path=unquote(split.path),
        query=parse_qs(split.query, keep_blank_values=True),
        headers={name.lower(): value for name, value in headers},
        body=body,
    )


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request a fake answered (or started answering, for faults), with its answer's status."""

    method: str
    #: The percent-decoded path, path prefix included.
    path: str
    query: Mapping[str, tuple[str, ...]]
    #: The request's headers, names lower-cased.
    headers: Mapping[str, str]
    #: The JSON body parsed; text when it is not JSON; None when there is none.
    body: Any
    status: int
    #: The fault that answered it, or None for a regular answer.
    fault: FaultKind | None
    #: Epoch seconds: when the request arrived, and when its answer was ready.
    started: float
    finished: float

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")

    @property
    def is_write(self) -> bool:
        return self.method != "GET"

    @property
    def is_event_request(self) -> bool:
        """An error tracker's event endpoint (Sentry's and Bugsink's paths have ``/events/``)."""
        return "/events/" in self.path

    @property
    def is_issue_list_request(self) -> bool:
        """An error tracker's issue list (Sentry's and Bugsink's paths end in ``/issues/``)."""
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


class ServerOptions(TypedDict, total=False):
    """What every fake takes besides its API's own options (see :class:`LoopbackFake`)."""

    latency: float
    slow_seconds: float
    faults: RandomFaults | None


@dataclass(slots=True)
class Fault:
    """A fault that answers a request: scripted by :meth:`LoopbackFake.inject` or drawn at random."""

    kind: FaultKind
    method: str | None = None
    path: re.Pattern[str] | None = None
    remaining: int = 1
    status: int = 503
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    reset_in: float = 1.0
    passthrough: bool = False

    def matches(self, request: IncomingRequest) -> bool:
        if self.method is not None and self.method != request.method:
            return False
        return self.path is None or self.path.search(request.path) is not None


@dataclass(slots=True)
class Reply:
    """What a fake answers: a status, the body's bytes, headers, a delay, the fault if any."""

    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)
    delay: float = 0.0
    fault: FaultKind | None = None

    def set_header(self, name: str, value: str) -> None:
        """Set ``name`` to ``value``, replacing any header of that name (case-insensitively)."""
        lowered = name.lower()
        self.headers = [header for header in self.headers if header[0].lower() != lowered]
        self.headers.append((name, value))


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

    def _serve(self) -> None:
        self.server.fake._serve_socket(self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve  # noqa: N815 - http.server's names

    def log_message(self, format: str, *args: Any) -> None:
        return  # quiet: the fake keeps its own request log


class LoopbackFake:
    """A fake API server on 127.0.0.1 port 0; see the module docstring.

    ``token`` is what clients must send (None: anything); ``path_prefix`` is where the API
    lives (outside it the fake answers 404); ``latency`` seconds pass before each answer;
    ``slow_seconds`` is how long a ``timeout`` fault waits; ``faults`` are drawn at random.
    Subclasses answer requests in :meth:`_reply`.
    """

    #: The ``Content-Type`` of JSON answers.
    json_content_type = "application/json"

    def __init__(
        self,
        *,
        token: str | None,
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
        #: What went wrong inside the fake (each such request was answered 418).
        self.errors: list[str] = []
        #: Seconds between two bytes of a ``drip`` fault.
        self.drip_interval = 5.0
        self._rng = random.Random(self.faults.seed)
        self._lock = threading.RLock()
        self._log: list[RecordedRequest] = []
        self._scripted: list[Fault] = []
        self._in_flight = 0
        self._max_in_flight = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
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
        """Scheme, host, port and path prefix: what a client's base URL should be."""
        return f"http://127.0.0.1:{self.port}{self.path_prefix}"

    def _port_or_zero(self) -> int:
        """The port, or 0 when not running (answering through :meth:`transport`)."""
        return int(self._server.server_address[1]) if self._server is not None else 0

    def _origin(self) -> str:
        """Scheme, host and port for the URLs inside answers."""
        return f"http://127.0.0.1:{self._port_or_zero()}"

    def transport(self) -> httpx.AsyncBaseTransport:
        """An in-process transport (no sockets) answering exactly like the server."""
        return _InProcessTransport(self)

    # ----------------------------------------------------------------- inspection
    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request answered so far, in the order the answers were ready."""
        with self._lock:
            return list(self._log)

    @property
    def writes(self) -> list[RecordedRequest]:
        """The requests that were not ``GET``."""
        return [request for request in self.requests if request.is_write]

    def clear_requests(self) -> None:
        with self._lock:
            self._log.clear()

    @property
    def max_in_flight(self) -> int:
        """The most requests being answered at the same time so far."""
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
        kind: FaultKind = "error",
        *,
        method: str | None = None,
        path: str = "",
        count: int = 1,
        status: int = 503,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        reset_in: float = 1.0,
        passthrough: bool = False,
    ) -> None:
        """Answer the next ``count`` requests whose method is ``method`` (default: any) and
        whose decoded path (prefix included) matches the regular expression ``path`` (searched,
        default: any) with a fault. Faults apply where the fake's API would answer: after the
        token check on Sentry and Bugsink, before it on GitHub.

        ``error`` answers ``status`` with ``body`` (default: the API's error body; ``bytes``
        are sent as an HTML page) whatever the status: a 5xx, a 4xx, a 3xx with a
        ``Location`` header, or a stale 200. ``rate_limit`` answers 429 whose reset is
        ``reset_in`` seconds ahead (the API's headers). ``timeout`` answers after
        ``slow_seconds``; ``truncate`` cuts a JSON body in half (with a matching
        Content-Length); ``disconnect`` drops the connection mid-body; ``drip`` sends a valid
        answer one byte every :attr:`drip_interval` seconds; ``endless`` streams a JSON array
        that never ends (until the client hangs up); ``html`` answers 200 with
        :data:`PROXY_PAGE`; ``redirect_away`` answers 302 to the same server under another
        origin (``http://localhost:<port>``). ``headers`` are set on any of these answers
        (replacing the API's headers of the same name). ``passthrough`` performs the request
        first and then answers the fault, like a gateway timing out after the write went
        through.
        """
        fault = Fault(
            kind=kind,
            method=method.upper() if method is not None else None,
            path=re.compile(path) if path else None,
            remaining=count,
            status=status,
            body=body,
            headers=dict(headers or {}),
            reset_in=reset_in,
            passthrough=passthrough,
        )
        with self._lock:
            self._scripted.append(fault)

    def clear_faults(self) -> None:
        """Forget the scripted faults that are not used up yet."""
        with self._lock:
            self._scripted.clear()

    # ----------------------------------------------------------------- for subclasses
    def _reply(self, request: IncomingRequest, in_flight: int) -> Reply:
        """The answer to ``request``; ``in_flight`` counts it and those answered meanwhile."""
        raise NotImplementedError

    def _route_target(self, request: IncomingRequest) -> str | None:
        """The request's decoded path without the path prefix; None outside the prefix."""
        if not self.path_prefix:
            return request.path
        if not request.path.startswith(self.path_prefix + "/"):
            return None
        return request.path[len(self.path_prefix) :]

    def _faulted(
        self, request: IncomingRequest, headers: list[tuple[str, str]], route: Callable[[], object]
    ) -> Reply | None:
        """The fault answering ``request``, if one is scripted or drawn for it; ``route``
        performs the request first when the fault is a passthrough one. ``headers`` are the
        API's usual headers for the answer."""
        fault = self._draw_fault(request)
        if fault is None:
            return None
        if fault.passthrough:
            route()
        reply = self._fault_reply(fault, headers)
        for name, value in fault.headers.items():
            reply.set_header(name, value)
        return reply

    def _error_body(self, status: int) -> Any:
        """The API's body for an error answer (``error`` and ``timeout`` faults)."""
        return {"detail": "Internal Error"}

    def _rate_limited(self, fault: Fault, headers: list[tuple[str, str]]) -> Reply:
        """The API's 429 (the ``rate_limit`` fault)."""
        return self._json(429, self._error_body(429), headers, fault="rate_limit")

    def _json(
        self,
        status: int,
        payload: Any,
        headers: list[tuple[str, str]] | None = None,
        *,
        fault: FaultKind | None = None,
    ) -> Reply:
        body = json.dumps(payload).encode()
        all_headers = [("Content-Type", self.json_content_type), *(headers or [])]
        return Reply(status=status, body=body, headers=all_headers, fault=fault)

    def _payload(self, status: int, payload: Any, headers: list[tuple[str, str]]) -> Reply:
        """``payload`` as JSON; ``bytes`` as an HTML page; None as an empty JSON answer."""
        if isinstance(payload, bytes):
            return Reply(status=status, body=payload, headers=[*headers, ("Content-Type", _HTML)])
        reply = self._json(status, payload, headers)
        if payload is None:
            reply.body = b""
        return reply

    # ----------------------------------------------------------------- faults, inside
    def _draw_fault(self, request: IncomingRequest) -> Fault | None:
        with self._lock:
            for scripted in self._scripted:
                if scripted.remaining > 0 and scripted.matches(request):
                    scripted.remaining -= 1
                    return scripted
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
                return Fault(kind)  # type: ignore[arg-type]  # the literals above are FaultKind
            roll -= rate
        return None

    def _fault_reply(self, fault: Fault, headers: list[tuple[str, str]]) -> Reply:
        kind = fault.kind
        if kind == "error":
            body = self._error_body(fault.status) if fault.body is None else fault.body
            reply = self._payload(fault.status, body, headers)
            reply.fault = "error"
            return reply
        if kind == "rate_limit":
            return self._rate_limited(fault, headers)
        if kind == "timeout":
            reply = self._json(503, self._error_body(503), headers, fault="timeout")
            reply.delay = self.slow_seconds
            return reply
        if kind == "html":
            reply = self._payload(200, PROXY_PAGE, headers)
            reply.fault = "html"
            return reply
        if kind == "redirect_away":
            target = f"http://localhost:{self._port_or_zero()}/elsewhere/"
            headers = [*headers, ("Location", target)]
            return Reply(status=302, body=b"", headers=headers, fault="redirect_away")
        if kind in ("drip", "endless"):
            reply = self._json(200, [], headers, fault=kind)
            reply.body = b"[" + b" " * 200 + b"]"  # valid JSON, long enough to drip for minutes
            return reply
        # truncate / disconnect: a good answer that arrives broken
        reply = self._json(200, _CUT_BODY, headers, fault=kind)
        reply.delay = self.latency
        return reply

    # ----------------------------------------------------------------- serving
    def _answer(self, request: IncomingRequest, in_flight: int) -> Reply:
        try:
            return self._reply(request, in_flight)
        except Exception as exc:  # a bug in the fake must not look like a server error to retry
            problem = f"{type(exc).__name__}: {exc}"
            with self._lock:
                self.errors.append(f"{request.method} {request.path}: {problem}")
            return self._json(418, {"message": f"{type(self).__name__} bug: {problem}"})

    def _begin(self) -> int:
        """Count a request in; return how many are in flight with it."""
        with self._lock:
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
            return self._in_flight

    def _end(self, request: IncomingRequest, reply: Reply, started: float) -> None:
        """Log a request and count it out."""
        entry = RecordedRequest(
            method=request.method,
            path=request.path,
            query={key: tuple(values) for key, values in request.query.items()},
            headers=request.headers,
            body=request.body,
            status=reply.status,
            fault=reply.fault,
            started=started,
            finished=time.time(),
        )
        with self._lock:
            self._log.append(entry)
            self._in_flight -= 1

    def _track(self, connection: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def _serve_socket(self, handler: _Handler) -> None:
        started = time.time()
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length > 0 else b""
        request = _incoming(handler.command, handler.path, handler.headers.items(), raw)
        reply = self._answer(request, self._begin())
        try:
            if reply.delay > 0:
                time.sleep(reply.delay)
        finally:
            # Counted out before the answer is written: the client frees its slot only after
            # reading the answer, so a well-behaved client never looks over the limit.
            self._end(request, reply, started)
        if reply.fault in ("drip", "endless"):
            self._stream_fault(handler, reply)
            return
        body = reply.body
        handler.send_response(reply.status)
        for name, value in reply.headers:
            handler.send_header(name, value)
        if reply.fault == "truncate":
            body = body[: max(1, len(body) // 2)]
        handler.send_header("Content-Length", str(len(body)))
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

    def _stream_fault(self, handler: _Handler, reply: Reply) -> None:
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
            while not self._stopping.is_set():
                handler.wfile.write(_ENDLESS_CHUNK)
        except OSError:
            return  # the client hung up: the point of the fault


class _InProcessTransport(httpx.AsyncBaseTransport):
    """Answers through the fake's routing without sockets (latency via asyncio.sleep)."""

    def __init__(self, fake: LoopbackFake) -> None:
        self._fake = fake

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        fake = self._fake
        started = time.time()
        target = request.url.raw_path.decode("ascii")
        incoming = _incoming(request.method, target, request.headers.items(), await request.aread())
        reply = fake._answer(incoming, fake._begin())
        try:
            if reply.fault == "timeout":
                raise httpx.ReadTimeout("fake timeout", request=request)
            if reply.fault == "disconnect":
                raise httpx.RemoteProtocolError("peer closed connection", request=request)
            if reply.delay > 0:
                await asyncio.sleep(reply.delay)
        finally:
            fake._end(incoming, reply, started)
        body = reply.body[: max(1, len(reply.body) // 2)] if reply.fault == "truncate" else reply.body
        return httpx.Response(reply.status, headers=reply.headers, content=body, request=request)
