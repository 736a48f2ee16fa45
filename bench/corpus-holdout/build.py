"""Rebuild the HOLDOUT triage corpus: ``python bench/corpus-holdout/build.py`` (a few minutes).

The same pipeline as ``bench/corpus/build.py`` (whose Sentry-server code, ``sentry_server.py``,
is imported, not copied), on a different app: the Riverside Hall box office in ``app/``.

1. npm ci in bench/corpus (``@sentry/browser``, ``@playwright/test``, esbuild; never a browser download),
   deploy ``app/`` to a fixed folder, bundle the browser SDK into the deployed web front end.
2. Start the box office's HTTP server (``server/boxoffice/http.py``) with the REAL ``sentry-sdk``
   (in-memory transport); the server relays the browser SDK's envelopes.
3. Drive a simulated week (seeded): API requests, worker runs (one in a thread), a release
   switch (5.3.0 -> 5.4.0), browser visits in headless Debian Chromium.
4. Run the app's real ``@playwright/test`` suite (two projects, retries 1; json + junit).
5. Group the events as Sentry does and write the export.
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
DEPLOY = Path("/tmp/selfheal-corpus-holdout/boxoffice")  # noqa: S108 - fixed: abs paths in the data stay stable
PORT = 38533
BASE = f"http://127.0.0.1:{PORT}"
WEEK_START = datetime(2026, 10, 5, tzinfo=UTC)
RELEASE_SWITCH = WEEK_START + timedelta(days=3)
#: The node tools (and the browser driver) are bench/corpus's: one package.json, one lock.
TOOLS = HERE.parent / "corpus"
NODE_MODULES = TOOLS / "node_modules"
sys.path.insert(0, str(HERE.parent / "corpus"))
import sentry_server  # noqa: E402 - bench/corpus's model of Sentry's server, shared on purpose


class SimulatedClock:
    def __init__(self) -> None:
        self.now = WEEK_START


CLOCK = SimulatedClock()


def run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, check=True, text=True, **kwargs)


def prepare() -> None:
    if not (NODE_MODULES / "@playwright" / "test").is_dir() or not (NODE_MODULES / "@sentry").is_dir():
        env = {**os.environ, "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1"}
        run(["npm", "ci", "--no-audit", "--no-fund"], cwd=TOOLS, env=env)
    if DEPLOY.exists():
        shutil.rmtree(DEPLOY)
    shutil.copytree(APP, DEPLOY, ignore=shutil.ignore_patterns("node_modules", "test-results", "__pycache__"))
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
            f"--outfile={DEPLOY / 'web' / 'assets' / 'js' / 'vendor' / 'sentry.bundle.js'}",
        ]
    )
    entry.unlink()


class Collected:
    def __init__(self) -> None:
        self.python: list[tuple[dict[str, Any], datetime]] = []
        self.browser: list[tuple[dict[str, Any], datetime]] = []
        self.lock = threading.Lock()

    def browser_envelope(self, path: str, body: bytes) -> None:
        lines = body.decode("utf-8").split("\n")
        for index in range(1, len(lines) - 1, 2):
            header = json.loads(lines[index]) if lines[index].strip() else {}
            if header.get("type") == "event":
                with self.lock:
                    self.browser.append((json.loads(lines[index + 1]), CLOCK.now))


COLLECTED = Collected()


def init_sdk(release: str) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.stdlib import StdlibIntegration
    from sentry_sdk.transport import Transport

    class MemoryTransport(Transport):
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
        dsn="http://serverkey@127.0.0.1:9/7",
        transport=MemoryTransport,
        release=f"boxoffice@{release}",
        environment="prod",
        server_name="bo-api-2",
        in_app_include=["boxoffice"],
        project_root=str(DEPLOY / "server"),
        include_local_variables=False,
        max_breadcrumbs=20,
        disabled_integrations=[StdlibIntegration()],
    )


def start_server() -> tuple[Any, Any]:
    sys.path.insert(0, str(DEPLOY / "server"))
    from boxoffice import http

    http.BoxOfficeHandler.envelope_sink = COLLECTED.browser_envelope
    httpd = http.make_server(PORT, browser_dsn=f"http://webkey@127.0.0.1:{PORT}/8", release="boxoffice@5.3.0")
    threading.Thread(target=httpd.serve_forever, name="boxoffice-http", daemon=True).start()
    return httpd, http


def call(method: str, path: str, body: Any = None) -> int:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 - our loopback server
        BASE + path, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our loopback server
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


BAD_SECTIONS = ["LOGE-14", "BALCONY-9", "BOX-3", "GALLERY-21", "PIT"]
GOOD_SECTIONS = ["STALLS-A", "stalls-b", "CIRCLE-1", "CIRCLE-2"]
GUESTS = ["ana.ruiz@example.org", "ben@example.org", "li.wei@example.net", "k.meyer@example.com"]


def api_traffic(rng: random.Random, start: datetime, hours: int, day: int) -> None:
    from boxoffice.workers import hold_expiry, mail_queue, waitlist

    end = start + timedelta(hours=hours)
    CLOCK.now = start
    next_sweep = start.replace(minute=30) + timedelta(hours=1)
    while CLOCK.now < end:
        CLOCK.now += timedelta(minutes=rng.randint(25, 80), seconds=rng.randint(0, 59))
        kind = rng.choices(
            [
                "quote",
                "bad-quote",
                "group",
                "bad-group",
                "account",
                "guest-account",
                "send",
                "refund",
                "comma-refund",
                "reservation",
                "fees",
                "no-tickets",
                "showtime",
                "bad-showtime",
                "runtime",
                "bad-runtime",
            ],
            weights=[10, 4, 3, 2, 5, 3, 3, 4, 2, 4, 4, 1, 3, 2, 3, 2],
        )[0]
        account = f"a-{rng.choice([100, 101])}"
        guest = f"g-{rng.randint(1000, 9999)}"
        if kind == "quote":
            call("POST", "/api/v2/quote", {"section": rng.choice(GOOD_SECTIONS), "count": rng.randint(1, 4)})
        elif kind == "bad-quote":
            call("POST", "/api/v2/quote", {"section": rng.choice(BAD_SECTIONS), "count": rng.randint(1, 4)})
        elif kind in ("group", "bad-group"):
            sections = GOOD_SECTIONS if kind == "group" else BAD_SECTIONS
            parts = [{"section": rng.choice(sections), "count": rng.randint(10, 30)}]
            call("POST", "/api/v2/groups/quote", {"parts": parts, "account": account})
        elif kind == "account":
            call("GET", f"/api/v2/account?account={account}")
        elif kind == "guest-account":
            call("GET", f"/api/v2/account?account={guest}")
        elif kind == "send":
            who = account if rng.random() < 0.5 else guest
            call("POST", "/api/v2/tickets/send", {"account": who, "tickets": ["T1", "T2"]})
        elif kind == "refund":
            call("POST", "/api/v2/refunds", {"order": str(rng.randint(8000, 8999)), "amount": "12.50"})
        elif kind == "comma-refund":
            amount = rng.choice(["12,50", "7,25", "30,00", "4,99"])
            call("POST", "/api/v2/refunds", {"order": str(rng.randint(8000, 8999)), "amount": amount})
        elif kind == "reservation":
            number = str(rng.choice([7001, 7002, rng.randint(7100, 7999)]))
            call("GET", f"/api/v2/reservations?number={number}&guest={rng.choice(GUESTS)}")
        elif kind in ("fees", "no-tickets"):
            lines = [{"kind": "ticket"}] * rng.randint(1, 4) if kind == "fees" else [{"kind": "parking"}]
            call("POST", "/api/v2/orders/fees", {"lines": lines})
        elif kind == "showtime":
            call(
                "POST", "/api/v2/programme/showtime", {"startsAt": f"2026-11-{rng.randint(10, 28)}T19:30:00"}
            )
        elif kind == "bad-showtime":
            text = rng.choice(["19:30 on 12 Nov", "Fri 13/11 20h", "tbc"])
            call("POST", "/api/v2/programme/showtime", {"startsAt": text})
        elif kind == "runtime":
            call("POST", "/api/v2/programme/running-time", {"runningTime": str(rng.randint(60, 150))})
        else:
            text = rng.choice(["90min", "2h", "95 mins", "1h45"])
            call("POST", "/api/v2/programme/running-time", {"runningTime": text})
        while next_sweep <= CLOCK.now:
            saved, CLOCK.now = CLOCK.now, next_sweep
            holds = [{"section": rng.choice(GOOD_SECTIONS), "count": 2}]
            if next_sweep.hour in (2, 14):
                holds.append({"section": rng.choice(BAD_SECTIONS), "count": 1})
            hold_expiry.sweep_in_thread(holds)
            if next_sweep.hour == 6:
                entries = [(str(rng.randint(7100, 7999)), rng.choice(GUESTS))]
                waitlist.run(entries)
            # The SMTP relay was down for one hour on the fifth day: one burst, never again.
            mail_queue.flush(["m1", "m2"], relay_up=not (day == 4 and next_sweep.hour == 11))
            next_sweep += timedelta(hours=1)
            CLOCK.now = saved
        if day == 4 and 11 <= CLOCK.now.hour < 12:
            for _ in range(3):  # retries within the outage
                mail_queue.flush(["m3"], relay_up=False)


def browser_traffic(rng: random.Random, day: datetime, count: int) -> None:
    plan: list[dict[str, Any]] = []
    for _ in range(count):
        kind = rng.choices(
            ["venue", "bad-venue", "event", "bad-event", "programme"], weights=[3, 2, 3, 2, 3]
        )[0]
        locale = rng.choice(["en-GB", "de-DE", "fr-FR"])
        if kind == "venue":
            plan.append({"path": f"/?view=venue&venue=main-hall&locale={locale}"})
        elif kind == "bad-venue":
            plan.append({"path": f"/?view=venue&venue=hall-{rng.choice('bcd')}&locale={locale}"})
        elif kind == "event":
            plan.append({"path": "/?view=event&venue=studio"})
        elif kind == "bad-event":
            plan.append({"path": f"/?view=event&venue=terrace&locale={locale}"})
        else:
            plan.append({"path": "/?view=programme"})
    plan_file = DEPLOY / "browse-plan.json"
    for index, visit in enumerate(plan):
        plan_file.write_text(json.dumps([visit]))
        CLOCK.now = day + timedelta(hours=9 + index * 10 / max(1, count), seconds=rng.randint(0, 2000))
        run(["node", str(TOOLS / "browse.mjs"), BASE, str(plan_file)], cwd=TOOLS, stdout=subprocess.DEVNULL)


def playwright_run() -> None:
    results = DEPLOY / "test-results"
    env = {
        **os.environ,
        "BOXOFFICE_URL": BASE,
        "PW_JSON_OUTPUT": str(results / "report.json"),
        "PW_JUNIT_OUTPUT": str(results / "junit.xml"),
        "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1",
        "CI": "1",
    }
    env.pop("FORCE_COLOR", None)
    cmd = [str(DEPLOY / "node_modules" / ".bin" / "playwright"), "test"]
    print("+", " ".join(cmd), flush=True)
    done = subprocess.run(cmd, cwd=DEPLOY, env=env, text=True, capture_output=True, check=False)
    if done.returncode not in (0, 1):
        sys.exit(f"playwright failed to run:\n{done.stdout}\n{done.stderr}")
    DATA.mkdir(exist_ok=True)
    report = json.loads((results / "report.json").read_text())
    _trim_attachments(report)
    (DATA / "playwright-report.json").write_text(json.dumps(report, indent=1) + "\n")
    shutil.copyfile(results / "junit.xml", DATA / "junit.xml")


def _trim_attachments(node: Any) -> None:
    if isinstance(node, dict):
        for attachment in node.get("attachments") or []:
            if isinstance(attachment, dict):
                attachment.pop("body", None)
        for value in node.values():
            _trim_attachments(value)
    elif isinstance(node, list):
        for value in node:
            _trim_attachments(value)


def _moment(value: Any) -> datetime | None:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return None


def in_simulated_week(event: dict[str, Any], received: datetime) -> dict[str, Any]:
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
    def sources(url: str) -> list[str] | None:
        path = sentry_server._URL_HOST.sub("", url).split("?", 1)[0].lstrip("/")
        target = DEPLOY / "web" / path
        return target.read_text().splitlines() if target.is_file() else None

    received = [
        sentry_server.ReceivedEvent(
            project, platform, sentry_server.process(in_simulated_week(e, t), sources), t
        )
        for project, platform, events in (
            ("boxoffice-api", "python", COLLECTED.python),
            ("boxoffice-web", "javascript", COLLECTED.browser),
        )
        for e, t in events
    ]
    groups = sentry_server.group_events(received)
    items = sentry_server.export(
        groups,
        projects={"boxoffice-api": ("6604417", "python"), "boxoffice-web": ("6604418", "javascript")},
        end=WEEK_START + timedelta(days=7),
    )
    DATA.mkdir(exist_ok=True)
    (DATA / "sentry_errors.json").write_text(json.dumps(items, indent=1) + "\n")
    return len(items)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=23)
    parser.add_argument("--skip-playwright", action="store_true", help="only rebuild the Sentry export")
    parser.add_argument("--check", action="store_true", help="only compare data/ with truth.toml")
    args = parser.parse_args(argv)
    if args.check:
        return report_truth_gaps()
    rng = random.Random(args.seed)
    prepare()
    os.environ["BOXOFFICE_RELEASE"] = "5.3.0"
    init_sdk("5.3.0")
    httpd, http = start_server()
    try:
        for day in range(7):
            start = WEEK_START + timedelta(days=day)
            if start >= RELEASE_SWITCH and httpd.release != "boxoffice@5.4.0":
                httpd.release = "boxoffice@5.4.0"
                from boxoffice import config

                config.RELEASE = "5.4.0"
                init_sdk("5.4.0")
            api_traffic(rng, start, 24, day)
            browser_traffic(rng, start, 4)
        http.BoxOfficeHandler.report_errors = False  # the e2e run is not production
        if not args.skip_playwright:
            playwright_run()
    finally:
        httpd.shutdown()
    issues = write_export()
    print(f"{len(COLLECTED.python)} server + {len(COLLECTED.browser)} browser events -> {issues} issues")
    return report_truth_gaps()


def report_truth_gaps() -> int:
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
