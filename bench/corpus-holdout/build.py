"""Rebuild the HOLDOUT triage corpus: ``python bench/corpus-holdout/build.py`` (a few minutes).

The same pipeline as ``bench/corpus/build.py`` (its app-independent steps, ``harness.py``, and
its Sentry-server model, ``sentry_server.py``, are imported, not copied), on a different app: the
Riverside Hall box office in ``app/``. This file holds the box office's traffic.

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

import os
import random
import sys
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
sys.path.insert(0, str(HERE.parent / "corpus"))
import harness  # noqa: E402 - bench/corpus's build steps (and node tools), shared on purpose

CLOCK = harness.SimulatedClock(WEEK_START)
COLLECTED = harness.Collector(CLOCK)


def init_sdk(release: str) -> None:
    COLLECTED.init_sdk(
        dsn="http://serverkey@127.0.0.1:9/7",
        release=f"boxoffice@{release}",
        environment="prod",
        server_name="bo-api-2",
        in_app_include=["boxoffice"],
        project_root=str(DEPLOY / "server"),
    )


def start_server() -> tuple[Any, Any]:
    sys.path.insert(0, str(DEPLOY / "server"))
    from boxoffice import http

    http.BoxOfficeHandler.envelope_sink = COLLECTED.browser_envelope
    httpd = http.make_server(PORT, browser_dsn=f"http://webkey@127.0.0.1:{PORT}/8", release="boxoffice@5.3.0")
    harness.serve(httpd, "boxoffice-http")
    return httpd, http


def call(method: str, path: str, body: Any = None) -> int:
    return harness.call(BASE, method, path, body)


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
    for index, visit in enumerate(plan):
        CLOCK.now = day + timedelta(hours=9 + index * 10 / max(1, count), seconds=rng.randint(0, 2000))
        harness.browse(BASE, visit, DEPLOY / "browse-plan.json")


def main(argv: list[str] | None = None) -> int:
    args = harness.arguments(__doc__, seed=23, argv=argv)
    if args.check:
        return harness.report_truth_gaps(HERE)
    rng = random.Random(args.seed)
    harness.deploy(APP, DEPLOY, bundle="web/assets/js/vendor/sentry.bundle.js", linked=["."])
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
            harness.playwright_run(DEPLOY, DATA, {"BOXOFFICE_URL": BASE})
    finally:
        httpd.shutdown()
    issues = harness.write_export(
        COLLECTED,
        backend=("boxoffice-api", "6604417"),
        frontend=("boxoffice-web", "6604418"),
        web_root=DEPLOY / "web",
        end=WEEK_START + timedelta(days=7),
        data=DATA,
    )
    print(f"{len(COLLECTED.python)} server + {len(COLLECTED.browser)} browser events -> {issues} issues")
    return harness.report_truth_gaps(HERE)


if __name__ == "__main__":
    raise SystemExit(main())
