"""The box office's HTTP server (stdlib): JSON API, the web front end, error reporting.

A failing request is reported to Sentry and answered with HTTP 500 and
``{"message": "Something went wrong", "error": "<Type>: <message>", "exception": "<repr>"}``.
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import sentry_sdk

from boxoffice import config
from boxoffice.handlers import accounts, booking, groups, programme, refunds, reservations

WEB = Path(__file__).resolve().parents[2] / "web"
Route = Callable[[dict, dict], dict]

ROUTES: dict[tuple[str, str], Route] = {
    ("POST", "/api/v2/quote"): booking.quote,
    ("POST", "/api/v2/orders/fees"): booking.order_fees,
    ("POST", "/api/v2/groups/quote"): groups.group_quote,
    ("GET", "/api/v2/account"): accounts.show_account,
    ("POST", "/api/v2/tickets/send"): accounts.send_tickets,
    ("POST", "/api/v2/refunds"): refunds.partial_refund,
    ("GET", "/api/v2/reservations"): reservations.lookup,
    ("POST", "/api/v2/programme/showtime"): programme.import_showtime,
    ("POST", "/api/v2/programme/running-time"): programme.import_running_time,
}


class BoxOfficeHandler(BaseHTTPRequestHandler):
    server_version = "BoxOffice/5"
    envelope_sink: Callable[[str, bytes], None] | None = None
    report_errors = True

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _read(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        if method == "POST" and url.path.endswith("/envelope/"):
            payload = self._read()
            if self.envelope_sink is not None and self.report_errors:
                self.envelope_sink(url.path, payload)
            return self._send(200, b"{}")
        if url.path == "/settings.js":
            settings = {"dsn": self.server.browser_dsn, "release": self.server.release,  # type: ignore[attr-defined]
                        "availabilityUrl": config.AVAILABILITY_URL}
            return self._send(200, f"window.BOXOFFICE = {json.dumps(settings)};".encode(), "text/javascript")
        route = ROUTES.get((method, url.path))
        if route is None:
            return self._static(url.path) if method == "GET" else self._send(404, b'{"error": "not found"}')
        raw = self._read()
        body = json.loads(raw) if raw else {}
        with sentry_sdk.isolation_scope() as scope:
            scope.set_transaction_name(f"{method} {url.path}")
            scope.set_user({"id": query.get("account") or body.get("account") or "anonymous"})
            try:
                result = route(body, query)
            except Exception as exc:  # every failure becomes a 500 the web page can show
                if self.report_errors:
                    sentry_sdk.capture_exception(exc)
                error = {"message": "Something went wrong", "error": f"{type(exc).__name__}: {exc}",
                         "exception": repr(exc)}
                return self._send(500, json.dumps(error).encode())
        self._send(200, json.dumps(result).encode())

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        self._dispatch("POST")

    def _static(self, path: str) -> None:
        relative = "index.html" if path in ("/", "/index.html") else path.lstrip("/")
        target = (WEB / relative).resolve()
        if WEB not in target.parents or not target.is_file():
            return self._send(404, b'{"error": "not found"}')
        self._send(200, target.read_bytes(), mimetypes.guess_type(target.name)[0] or "application/octet-stream")


def make_server(port: int, *, browser_dsn: str = "", release: str = "") -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", port), BoxOfficeHandler)
    server.browser_dsn = browser_dsn  # type: ignore[attr-defined]
    server.release = release  # type: ignore[attr-defined]
    return server
