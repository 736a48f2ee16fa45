"""The shop's HTTP server (stdlib only): JSON API, static front end, error reporting.

Errors in a request are reported to Sentry (when the SDK is initialised) and answered with
HTTP 500 and ``{"error": "Internal error: <Type>: <message>"}``, which the front end shows.
"""

from __future__ import annotations

import json
import mimetypes
import sys
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import sentry_sdk

from shop import accounts, cart, inventory, orders, payments, pricing, receipts, settings, shipping

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"

#: Receives every envelope the browser SDK posts to ``/api/<project>/envelope/`` (a local relay).
EnvelopeSink = Callable[[str, bytes], None]


class ShopHandler(BaseHTTPRequestHandler):
    server_version = "CornerShop/2"
    envelope_sink: EnvelopeSink | None = None
    report_errors = True

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass

    # --- plumbing ----------------------------------------------------------------------------
    def _body(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return (
            json.loads(raw)
            if raw and self.headers.get("Content-Type", "").startswith("application/json")
            else {"raw": raw}
        )

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: object) -> None:
        self._send(status, json.dumps(data).encode())

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        route = ROUTES.get((method, url.path))
        if route is None and url.path.startswith("/api/orders/"):
            route = ShopHandler.handle_receipt if url.path.endswith("/receipt") else ShopHandler.handle_order
        if route is None and method == "POST" and url.path.endswith("/envelope/"):
            route = ShopHandler.handle_envelope
        if route is None and method == "GET":
            return self._static(url.path)
        if route is None:
            return self._json(404, {"error": "not found"})
        with sentry_sdk.isolation_scope() as scope:
            scope.set_transaction_name(f"{method} {_route_name(url.path)}")
            scope.set_user({"id": query.get("user") or self.headers.get("X-Shop-User") or "guest"})
            host = self.headers.get("Host", "127.0.0.1")
            scope.add_event_processor(
                lambda event, hint: {
                    **event,
                    "request": {
                        "url": f"http://{host}{url.path}",
                        "method": method,
                        "query_string": url.query,
                        "headers": {"User-Agent": self.headers.get("User-Agent", "")},
                    },
                }
            )
            try:
                route(self, url.path, query)
            except Exception as exc:  # every failure becomes a 500 the UI can show
                if self.report_errors:
                    sentry_sdk.capture_exception(exc)
                self._json(500, {"error": f"Internal error: {type(exc).__name__}: {exc}"})

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        self._dispatch("POST")

    def _static(self, path: str) -> None:
        relative = "index.html" if path in ("/", "/index.html") else path.lstrip("/")
        target = (FRONTEND / relative).resolve()
        if FRONTEND not in target.parents or not target.is_file():
            return self._json(404, {"error": "not found"})
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        self._send(200, target.read_bytes(), content_type)

    # --- routes ------------------------------------------------------------------------------
    def handle_price(self, path: str, query: dict) -> None:
        body = self._body()
        self._json(200, {"totalCents": pricing.cart_total(body["lines"], body.get("code"))})

    def handle_add(self, path: str, query: dict) -> None:
        body = self._body()
        lines = cart.add_line(body["session"], body["sku"], str(body["quantity"]))
        self._json(200, {"lines": lines})

    def handle_estimate(self, path: str, query: dict) -> None:
        self._json(200, shipping.estimate(query["date"], query.get("method", "standard")))

    def handle_import(self, path: str, query: dict) -> None:
        body = self._body()
        feed = body["raw"].decode() if "raw" in body else body["feed"]
        self._json(200, {"updated": inventory.import_feed(feed)})

    def handle_profile(self, path: str, query: dict) -> None:
        self._json(200, {"email": accounts.contact_address(query.get("user", ""))})

    def handle_newsletter(self, path: str, query: dict) -> None:
        body = self._body()
        address = accounts.contact_address(body.get("user", ""))
        self._json(200, {"subscribed": address})

    def handle_order(self, path: str, query: dict) -> None:
        self._json(200, orders.order_view(path.split("/")[3]))

    def handle_receipt(self, path: str, query: dict) -> None:
        self._send(200, receipts.render_receipt(path.split("/")[3]).encode(), "text/plain")

    def handle_checkout(self, path: str, query: dict) -> None:
        body = self._body()
        total = pricing.cart_total(body.get("lines", []), body.get("code"))
        self._json(200, {"orderId": "9001", "totalCents": total, "message": "Thanks for your order!"})

    def handle_webhook(self, path: str, query: dict) -> None:
        body = self._body()
        self._json(200, {"settled": payments.settle(body["payment"], int(body["waitedMs"]))})

    def handle_sales(self, path: str, query: dict) -> None:
        series = [{"label": "coffee", "points": [3, 5, 8, 6]}, {"label": "tea", "points": [1, 2, 2, 4]}]
        self._json(200, {"series": series})

    def handle_config(self, path: str, query: dict) -> None:
        dsn = getattr(self.server, "browser_dsn", "")
        release = getattr(self.server, "release", "")
        config = {"dsn": dsn, "release": release, "stockUrl": settings.STOCK_SERVICE_URL}
        script = f"window.SHOP_CONFIG = {json.dumps(config)};"
        self._send(200, script.encode(), "text/javascript")

    def handle_envelope(self, path: str, query: dict) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        payload = self.rfile.read(length)
        if self.envelope_sink is not None and self.report_errors:
            self.envelope_sink(path, payload)
        self._json(200, {})


def _route_name(path: str) -> str:
    if path.startswith("/api/orders/"):
        return "/api/orders/{id}/receipt" if path.endswith("/receipt") else "/api/orders/{id}"
    return path


ROUTES = {
    ("POST", "/api/cart/price"): ShopHandler.handle_price,
    ("POST", "/api/cart/add"): ShopHandler.handle_add,
    ("GET", "/api/shipping/estimate"): ShopHandler.handle_estimate,
    ("POST", "/api/admin/import"): ShopHandler.handle_import,
    ("GET", "/api/profile"): ShopHandler.handle_profile,
    ("POST", "/api/newsletter"): ShopHandler.handle_newsletter,
    ("POST", "/api/checkout"): ShopHandler.handle_checkout,
    ("POST", "/api/payments/webhook"): ShopHandler.handle_webhook,
    ("GET", "/api/sales"): ShopHandler.handle_sales,
    ("GET", "/config.js"): ShopHandler.handle_config,
}


def make_server(port: int, *, browser_dsn: str = "", release: str = "") -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", port), ShopHandler)
    server.browser_dsn = browser_dsn  # type: ignore[attr-defined]
    server.release = release  # type: ignore[attr-defined]
    return server


if __name__ == "__main__":
    make_server(int(sys.argv[1]) if len(sys.argv) > 1 else 8000).serve_forever()
