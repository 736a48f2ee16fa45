"""Benchmark: `selfheal pull sentry` against the fake Sentry with 20 ms per request.

The fake runs in its own process (like a remote server: it does not share our GIL), serves
1,000 issues with 20 ms latency per request and refuses more than 8 concurrent requests.

Prints, in one run:
- selfheal's wall time (network part, and total with writing the file);
- the floor: (pages + issues / 8) x 20 ms, the best any client can do within the limit;
- the ratio wall / floor (goal <= 1.25);
- a sequential one-request-at-a-time baseline like the original script (goal: >= 6x slower).

Usage: .venv/bin/python bench/pull.py [--issues 1000] [--latency 0.02] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from selfheal.settings import SentrySettings
from selfheal.sources.sentry_pull import SentryQuery, pull_sentry

TOKEN = "fake-sentry-token"  # noqa: S105 (the fake server's well-known test token)
ORG = "acme"


def start_fake(issues: int, latency: float, concurrency: int) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "selfheal.testing.fake_sentry",
            "--synthetic",
            str(issues),
            "--latency",
            str(latency),
            "--concurrent-limit",
            str(concurrency),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


def sequential_baseline(base_url: str) -> tuple[float, int]:
    """Like the original script: list pages, then each latest event, one request at a time."""
    started = time.perf_counter()
    items = []
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as client:
        params: dict[str, str] = {"query": "is:unresolved", "statsPeriod": "14d", "limit": "100"}
        while True:
            page = client.get(f"/api/0/organizations/{ORG}/issues/", params=params)
            page.raise_for_status()
            items.extend({"issue": issue} for issue in page.json())
            following = page.links.get("next", {})
            if following.get("results") != "true":
                break
            params["cursor"] = following["cursor"]
        for item in items:
            issue_id = item["issue"]["id"]
            event = client.get(f"/api/0/organizations/{ORG}/issues/{issue_id}/events/latest/")
            event.raise_for_status()
            item["latestEvent"] = event.json()
    return time.perf_counter() - started, len(items)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    process, base_url = start_fake(args.issues, args.latency, args.concurrency)
    try:
        settings = SentrySettings(org=ORG, base_url=base_url, token=TOKEN)
        with tempfile.TemporaryDirectory() as scratch:
            report = pull_sentry(
                settings,
                SentryQuery.from_options(settings, limit=None),
                out=Path(scratch),
                concurrency=args.concurrency,
                progress=False,
            )
        assert report.issues == args.issues, report.summary()
        assert not report.events_missing, report.summary()
        sequential, count = sequential_baseline(base_url)
        assert count == args.issues
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()

    pages = math.ceil(args.issues / 100)
    floor = (pages + args.issues / args.concurrency) * args.latency
    print(
        f"fake Sentry: {args.issues} issues, {pages} pages, {args.latency * 1000:.0f} ms/request, "
        f"concurrent limit {args.concurrency} (separate process)"
    )
    print(
        f"selfheal pull:        {report.fetch_seconds:6.2f} s network "
        f"({report.requests} requests, {report.retries} retries, max {report.max_in_flight} in flight)"
    )
    print(f"selfheal pull total:  {report.elapsed:6.2f} s including writing sentry_errors.json")
    per_request = f"{args.latency * 1000:.0f} ms"
    print(f"floor:                {floor:6.2f} s  = (pages + issues/{args.concurrency}) x {per_request}")
    print(f"ratio wall/floor:     {report.fetch_seconds / floor:6.2f}    (network; goal <= 1.25)")
    print(f"ratio total/floor:    {report.elapsed / floor:6.2f}    (with the file write)")
    print(f"sequential baseline:  {sequential:6.2f} s  (one request at a time, like the original)")
    print(
        f"speed-up:             {sequential / report.fetch_seconds:6.1f}x   (network; goal >= 6x), "
        f"{sequential / report.elapsed:.1f}x with the file write"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
