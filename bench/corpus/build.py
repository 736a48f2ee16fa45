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

Outputs (committed, small): ``data/sentry_errors.json``, ``data/playwright-report.json``,
``data/junit.xml``. The hand-written ground truth is ``truth.toml``; the build ends by listing
raw items it does not name (exit 1), and ``--check`` only does that.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
APP = HERE / "app"
DATA = HERE / "data"
DEPLOY = Path("/tmp/selfheal-corpus/shop")  # noqa: S108 - fixed on purpose: abs paths in the data stay stable
PORT = 38431
BASE = f"http://127.0.0.1:{PORT}"
WEEK_START = datetime(2026, 11, 23, tzinfo=UTC)
RELEASE_SWITCH = WEEK_START + timedelta(days=4)
NODE_MODULES = HERE / "node_modules"


class SimulatedClock:
    """The simulated time of the request being served (requests are sent one at a time)."""

    def __init__(self) -> None:
        self.now = WEEK_START

    def iso(self) -> str:
        return self.now.isoformat().replace("+00:00", "Z")


CLOCK = SimulatedClock()


def run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, check=True, text=True, **kwargs)


def prepare() -> None:
    if not (NODE_MODULES / "@playwright" / "test").is_dir() or not (NODE_MODULES / "@sentry").is_dir():
        env = {**os.environ, "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1"}
        run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, env=env)
    if DEPLOY.exists():
        shutil.rmtree(DEPLOY)
    shutil.copytree(APP, DEPLOY, ignore=shutil.ignore_patterns("node_modules", "test-results", "__pycache__"))
    (DEPLOY / "e2e" / "node_modules").symlink_to(NODE_MODULES)
    entry = DEPLOY / "sentry-entry.js"
    entry.write_text('import * as Sentry from "@sentry/browser";\nwindow.Sentry = Sentry;\n')
    os.symlink(NODE_MODULES, DEPLOY / "node_modules")
    run(
        [
            str(NODE_MODULES / ".bin" / "esbuild"),
            str(entry),
            "--bundle",
            "--minify",
            "--format=iife",
            f"--outfile={DEPLOY / 'frontend' / 'static' / 'vendor' / 'sentry.bundle.js'}",
        ]
    )
    entry.unlink()
    (DEPLOY / "node_modules").unlink()


# --- the backend, its SDK and its relay ------------------------------------------------------


class Collected:
    def __init__(self) -> None:
        self.python: list[tuple[dict[str, Any], datetime]] = []
        self.browser: list[tuple[dict[str, Any], datetime]] = []
        self.lock = threading.Lock()

    def browser_envelope(self, path: str, body: bytes) -> None:
        """Items of one envelope (header line, then item header + payload lines)."""
        lines = body.decode("utf-8").split("\n")
        index = 1
        while index + 1 < len(lines) + 1 and index < len(lines):
            header = json.loads(lines[index]) if lines[index].strip() else {}
            payload = lines[index + 1] if index + 1 < len(lines) else ""
            index += 2
            if header.get("type") == "event":
                with self.lock:
                    self.browser.append((json.loads(payload), CLOCK.now))


COLLECTED = Collected()


def init_sdk(release: str) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.stdlib import StdlibIntegration
    from sentry_sdk.transport import Transport

    class MemoryTransport(Transport):
        """Keeps every envelope in memory instead of sending it."""

        def capture_envelope(self, envelope: Any) -> None:
            event = envelope.get_event()
            if event is not None:
                with COLLECTED.lock:
                    COLLECTED.python.append((event, CLOCK.now))

        def flush(self, timeout: float, callback: Any = None) -> None:
            return None

        def kill(self) -> None:
            return None

    sentry_sdk.init(
        dsn="http://backendkey@127.0.0.1:9/1",
        transport=MemoryTransport,
        release=f"shop@{release}",
        environment="production",
        server_name="shop-web-1",
        in_app_include=["shop"],
        project_root=str(DEPLOY / "backend"),
        include_local_variables=False,
        max_breadcrumbs=20,
        # The build's own subprocess and urllib calls are not the shop's: no breadcrumbs from them.
        disabled_integrations=[StdlibIntegration()],
    )


def start_server() -> tuple[Any, Any]:
    sys.path.insert(0, str(DEPLOY / "backend"))
    from shop import server

    server.ShopHandler.envelope_sink = COLLECTED.browser_envelope
    httpd = server.make_server(
        PORT, browser_dsn=f"http://browserkey@127.0.0.1:{PORT}/2", release="shop@2.0.0"
    )
    thread = threading.Thread(target=httpd.serve_forever, name="shop-http", daemon=True)
    thread.start()
    return httpd, server


def call(
    method: str, path: str, body: Any = None, *, raw: bytes | None = None, user: str | None = None
) -> int:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    headers = {"Content-Type": "text/plain" if raw is not None else "application/json"}
    if user:
        headers["X-Shop-User"] = user
    request = urllib.request.Request(BASE + path, data=data, method=method, headers=headers)  # noqa: S310 - our loopback server
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our loopback server
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


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
    plan_file = DEPLOY / "browse-plan.json"
    plan = browser_plan(rng, count)
    for index, visit in enumerate(plan):
        plan_file.write_text(json.dumps([visit]))
        CLOCK.now = day + timedelta(hours=8 + index * 12 / max(1, count), seconds=rng.randint(0, 3000))
        run(["node", str(HERE / "browse.mjs"), BASE, str(plan_file)], cwd=HERE, stdout=subprocess.DEVNULL)


# --- the test run --------------------------------------------------------------------------


def playwright_run() -> None:
    results = DEPLOY / "e2e" / "test-results"
    env = {
        **os.environ,
        "SHOP_URL": BASE,
        "PW_JSON_OUTPUT": str(results / "report.json"),
        "PW_JUNIT_OUTPUT": str(results / "junit.xml"),
        "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1",
        "CI": "1",
    }
    env.pop("FORCE_COLOR", None)
    cmd = [str(DEPLOY / "e2e" / "node_modules" / ".bin" / "playwright"), "test"]  # argv lands in the report
    print("+", " ".join(cmd), flush=True)
    done = subprocess.run(cmd, cwd=DEPLOY / "e2e", env=env, text=True, capture_output=True, check=False)
    if done.returncode not in (0, 1):  # 1 = some tests failed, which is the point
        sys.exit(f"playwright failed to run:\n{done.stdout}\n{done.stderr}")
    DATA.mkdir(exist_ok=True)
    report = json.loads((results / "report.json").read_text())
    _trim_attachments(report)
    (DATA / "playwright-report.json").write_text(json.dumps(report, indent=1) + "\n")
    shutil.copyfile(results / "junit.xml", DATA / "junit.xml")


def _trim_attachments(node: Any) -> None:
    """Attachments stay listed, their inline bodies go (screenshots are not committed)."""
    if isinstance(node, dict):
        for attachment in node.get("attachments") or []:
            if isinstance(attachment, dict):
                attachment.pop("body", None)
        for value in node.values():
            _trim_attachments(value)
    elif isinstance(node, list):
        for value in node:
            _trim_attachments(value)


# --- export --------------------------------------------------------------------------------


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return None


def in_simulated_week(event: dict[str, Any], received: datetime) -> dict[str, Any]:
    """The event and its breadcrumbs moved from the build's wall clock to the simulated week."""
    sent = _moment(event.get("timestamp")) or received
    shift = received - sent
    event["timestamp"] = received.isoformat().replace("+00:00", "Z")
    crumbs = event.get("breadcrumbs")
    for crumb in (crumbs.get("values") if isinstance(crumbs, dict) else crumbs) or []:
        moment = _moment(crumb.get("timestamp"))
        if moment is not None:
            crumb["timestamp"] = (moment + shift).isoformat().replace("+00:00", "Z")
    return event


def write_export() -> int:
    sys.path.insert(0, str(HERE))
    import sentry_server

    def sources(url: str) -> list[str] | None:
        path = sentry_server._URL_HOST.sub("", url).split("?", 1)[0].lstrip("/")
        target = DEPLOY / "frontend" / path
        return target.read_text().splitlines() if target.is_file() else None

    received = [
        sentry_server.ReceivedEvent(
            project, platform, sentry_server.process(in_simulated_week(e, t), sources), t
        )
        for project, platform, events in (
            ("shop-backend", "python", COLLECTED.python),
            ("shop-frontend", "javascript", COLLECTED.browser),
        )
        for e, t in events
    ]
    groups = sentry_server.group_events(received)
    end = WEEK_START + timedelta(days=7)
    items = sentry_server.export(
        groups,
        projects={"shop-backend": ("4508801", "python"), "shop-frontend": ("4508802", "javascript")},
        end=end,
    )
    DATA.mkdir(exist_ok=True)
    (DATA / "sentry_errors.json").write_text(json.dumps(items, indent=1) + "\n")
    return len(items)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--skip-playwright", action="store_true", help="only rebuild the Sentry export")
    parser.add_argument("--check", action="store_true", help="only compare data/ with truth.toml")
    args = parser.parse_args(argv)
    if args.check:
        return report_truth_gaps()
    rng = random.Random(args.seed)
    prepare()
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
            playwright_run()
    finally:
        httpd.shutdown()
    issues = write_export()
    print(f"{len(COLLECTED.python)} backend + {len(COLLECTED.browser)} browser events -> {issues} issues")
    return report_truth_gaps()


def report_truth_gaps() -> int:
    """Raw items the hand-made truth does not name (new ones need a person to label them)."""
    spec = importlib.util.spec_from_file_location("triage_bench", HERE.parent / "triage.py")
    if spec is None or spec.loader is None:
        return 1
    triage = importlib.util.module_from_spec(spec)
    sys.modules["triage_bench"] = triage
    spec.loader.exec_module(triage)
    problems = triage.check_truth(triage.corpus_inputs(HERE))
    for problem in problems:
        print(f"truth.toml: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
