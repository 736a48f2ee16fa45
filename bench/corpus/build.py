"""Rebuild the triage corpus: ``python bench/corpus/build.py`` (a few minutes).

1. npm install here (``@sentry/browser``, ``@playwright/test``, esbuild; never a browser
   download), deploy ``app/`` to a fixed folder (so absolute paths in events are stable), bundle
   the browser SDK into the deployed front end.
2. Start the shop's own HTTP server (``app/backend/shop/server.py``) with the REAL
   ``sentry-sdk`` initialised with an in-memory transport; the server also relays the envelopes
   the browser SDK posts to ``/api/<project>/envelope/``.
3. Drive a simulated week of production traffic (seeded): API requests, background jobs, a
   release switch (2.0.0 → 2.1.0), and browser visits in headless Debian Chromium.
4. Run the app's real ``@playwright/test`` suite (two projects, retries 1; json + junit).
5. Group the events as Sentry does (``sentry_server.py``) and write the export.

The steps that do not depend on the app are ``harness.py``'s (the holdout build uses them too);
this file holds the shop's traffic.

Outputs (committed, small): ``data/sentry_errors.json``, ``data/playwright-report.json``,
``data/junit.xml``. The hand-written ground truth is ``truth.toml``; the build ends by listing
raw items it does not name (exit 1), and ``--check`` only does that.
"""

from __future__ import annotations

import json
import os
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import harness  # this folder's: what every corpus build does, whatever the app

HERE = Path(__file__).resolve().parent
APP = HERE / "app"
DATA = HERE / "data"
DEPLOY = Path("/tmp/selfheal-corpus/shop")  # noqa: S108 - fixed on purpose: abs paths in the data stay stable
PORT = 38431
BASE = f"http://127.0.0.1:{PORT}"
WEEK_START = datetime(2026, 11, 23, tzinfo=UTC)
RELEASE_SWITCH = WEEK_START + timedelta(days=4)


CLOCK = harness.SimulatedClock(WEEK_START)
COLLECTED = harness.Collector(CLOCK)


def init_sdk(release: str) -> None:
    COLLECTED.init_sdk(
        dsn="http://backendkey@127.0.0.1:9/1",
        release=f"shop@{release}",
        environment="production",
        server_name="shop-web-1",
        in_app_include=["shop"],
        project_root=str(DEPLOY / "backend"),
    )


def start_server() -> tuple[Any, Any]:
    sys.path.insert(0, str(DEPLOY / "backend"))
    from shop import server

    server.ShopHandler.envelope_sink = COLLECTED.browser_envelope
    httpd = server.make_server(
        PORT, browser_dsn=f"http://browserkey@127.0.0.1:{PORT}/2", release="shop@2.0.0"
    )
    harness.serve(httpd, "shop-http")
    return httpd, server


def call(
    method: str, path: str, body: Any = None, *, raw: bytes | None = None, user: str | None = None
) -> int:
    return harness.call(BASE, method, path, body, raw=raw, headers={"X-Shop-User": user} if user else None)


# --- the simulated week ----------------------------------------------------------------------

UNKNOWN_CODES = ["ACME-7", "BETA-22", "XMAS-2026", "FRIEND-15", "VIP-3", "SPRING5"]
GOOD_CODES = ["welcome10", "SUMMER15", " staff30 "]


def api_traffic(rng: random.Random, start: datetime, hours: int) -> None:
    """One stretch of production traffic: a request every few simulated minutes."""
    from shop import jobs, scheduler
    from shop.cart import CARTS

    end = start + timedelta(hours=hours)
    CLOCK.now = start
    next_job = start.replace(minute=0) + timedelta(hours=1)
    while CLOCK.now < end:
        CLOCK.now += timedelta(minutes=rng.randint(20, 70), seconds=rng.randint(0, 59))
        user = f"u-{rng.randint(100, 160)}"
        kind = rng.choices(
            [
                "price",
                "bad-code",
                "add",
                "fraction",
                "estimate",
                "date-dmy",
                "profile",
                "newsletter",
                "receipt",
                "legacy-receipt",
                "import",
                "webhook",
            ],
            weights=[10, 5, 8, 3, 6, 4, 4, 3, 3, 2, 4, 2],
        )[0]
        lines = [{"sku": rng.choice(["COF-250", "TEA-GRN", "MUG-BLUE"]), "quantity": rng.randint(1, 3)}]
        if kind == "price":
            call("POST", "/api/cart/price", {"lines": lines, "code": rng.choice(GOOD_CODES)}, user=user)
        elif kind == "bad-code":
            call("POST", "/api/cart/price", {"lines": lines, "code": rng.choice(UNKNOWN_CODES)}, user=user)
        elif kind == "add":
            call("POST", "/api/cart/add", {"session": user, "sku": "COF-250", "quantity": rng.randint(1, 4)})
        elif kind == "fraction":
            quantity = rng.choice(["2.5", "0.5", "1.25", "1,5", "0.75"])
            call(
                "POST",
                "/api/cart/add",
                {"session": user, "sku": "BEANS-LOOSE", "quantity": quantity},
                user=user,
            )
        elif kind == "estimate":
            day = WEEK_START + timedelta(days=rng.randint(3, 30))
            call("GET", f"/api/shipping/estimate?date={day:%Y-%m-%d}&method=standard&user={user}")
        elif kind == "date-dmy":
            day = WEEK_START + timedelta(days=rng.randint(3, 30))
            call("GET", f"/api/shipping/estimate?date={day:%d/%m/%Y}&method=express&user={user}")
        elif kind == "profile":
            guest = f"g-{rng.randint(1000, 9999)}" if rng.random() < 0.7 else "u-100"
            call("GET", f"/api/profile?user={guest}")
        elif kind == "newsletter":
            call("POST", "/api/newsletter", {"user": rng.choice(["", "", "u-101"])})
        elif kind == "receipt":
            call("GET", f"/api/orders/{rng.choice(['1001', '2002', '3003'])}/receipt?user={user}")
        elif kind == "legacy-receipt":
            call("GET", f"/api/orders/{rng.choice(['4004', '5005', '6006'])}/receipt?user={user}")
        elif kind == "import":
            call("POST", "/api/admin/import", raw=_feed(rng).encode(), user="u-admin")
        elif kind == "webhook":
            waited = rng.choice([120, 340, 80, 900]) if rng.random() < 0.7 else rng.randint(5200, 9000)
            call(
                "POST",
                "/api/payments/webhook",
                {"payment": f"pay_{rng.randint(10**5, 10**6)}", "waitedMs": waited},
            )
        while next_job <= CLOCK.now:
            saved = CLOCK.now
            CLOCK.now = next_job
            scheduler.run_job("jobs.sync_warehouse", jobs.sync_warehouse, _feed(rng))
            if next_job.hour == 3:
                session = f"abandoned-{next_job:%d}"
                CARTS[session] = [{"sku": "COF-1KG", "quantity": 1}]
                # Carts are abandoned when the code the customer typed was refused.
                codes = {session: rng.choice(UNKNOWN_CODES)}
                scheduler.run_job("jobs.reprice_abandoned_carts", jobs.reprice_abandoned_carts, codes)
            next_job += timedelta(hours=1)
            CLOCK.now = saved


def _feed(rng: random.Random) -> str:
    """The warehouse feed; now and then the upload is cut off mid-line."""
    skus = rng.sample(["COF-250", "COF-1KG", "TEA-GRN", "BEANS-LOOSE", "MUG-BLUE"], 3)
    lines = [json.dumps({"sku": s, "on_hand": rng.randint(0, 80)}) for s in skus]
    if rng.random() < 0.25:
        lines[-1] = lines[-1][:-1]  # the closing brace is lost
    return "\n".join(lines) + "\n"


def browser_plan(rng: random.Random, count: int) -> list[dict[str, Any]]:
    plan: list[dict[str, Any]] = []
    for _ in range(count):
        user = f"u-{rng.randint(100, 160)}"
        kind = rng.choices(["order", "refund-click", "catalog", "sales", "cart"], weights=[4, 3, 4, 2, 3])[0]
        if kind == "order":
            order = rng.choice(["1001", "2002", "4004", "5005", "3003"])
            plan.append({"path": f"/?page=order&id={order}&user={user}"})
        elif kind == "refund-click":
            plan.append(
                {"path": f"/?page=orders&user={user}", "click": f"Refund {rng.choice(['1001', '2002'])}"}
            )
        elif kind == "catalog":
            plan.append({"path": f"/?page=catalog&user={user}"})
        elif kind == "sales":
            plan.append({"path": "/?page=sales&user=u-admin"})
        else:
            plan.append({"path": f"/?page=cart&user={user}"})
    return plan


def browser_traffic(rng: random.Random, day: datetime, count: int) -> None:
    for index, visit in enumerate(browser_plan(rng, count)):
        CLOCK.now = day + timedelta(hours=8 + index * 12 / max(1, count), seconds=rng.randint(0, 3000))
        harness.browse(BASE, visit, DEPLOY / "browse-plan.json")


def main(argv: list[str] | None = None) -> int:
    args = harness.arguments(__doc__, seed=11, argv=argv)
    if args.check:
        return harness.report_truth_gaps(HERE)
    rng = random.Random(args.seed)
    harness.deploy(APP, DEPLOY, bundle="frontend/static/vendor/sentry.bundle.js", linked=["e2e"])
    os.environ["SHOP_RELEASE"] = "2.0.0"
    init_sdk("2.0.0")
    httpd, server = start_server()
    from shop import settings

    try:
        for day in range(7):
            start = WEEK_START + timedelta(days=day)
            if start >= RELEASE_SWITCH and settings.RELEASE != "2.1.0":
                settings.RELEASE = "2.1.0"
                httpd.release = "shop@2.1.0"
                init_sdk("2.1.0")
            api_traffic(rng, start, 24)
            browser_traffic(rng, start, 6)
        server.ShopHandler.report_errors = False  # the e2e run is not production
        if not args.skip_playwright:
            harness.playwright_run(DEPLOY / "e2e", DATA, {"SHOP_URL": BASE})
    finally:
        httpd.shutdown()
    issues = harness.write_export(
        COLLECTED,
        backend=("shop-backend", "4508801"),
        frontend=("shop-frontend", "4508802"),
        web_root=DEPLOY / "frontend",
        end=WEEK_START + timedelta(days=7),
        data=DATA,
    )
    print(f"{len(COLLECTED.python)} backend + {len(COLLECTED.browser)} browser events -> {issues} issues")
    return harness.report_truth_gaps(HERE)


if __name__ == "__main__":
    raise SystemExit(main())
