"""What every corpus build does, whatever the app: ``bench/corpus/build.py`` (the shop) and
``bench/corpus-holdout/build.py`` (the box office) import it and keep only their app's traffic.

- :class:`SimulatedClock`: the simulated moment of the request being served.
- :class:`Collector`: the REAL ``sentry-sdk`` initialised with an in-memory transport, and the
  relay for the envelopes the browser SDK posts to the app; each event kept with its moment.
- :func:`deploy`: ``npm ci`` here when the node tools are missing (never a browser download),
  the app copied to a fixed folder (absolute paths in the data stay stable), ``@sentry/browser``
  bundled with esbuild into the deployed front end.
- :func:`call`, :func:`browse`: API requests and headless-Chromium visits of the running app.
- :func:`playwright_run`: the app's real ``@playwright/test`` suite, json + junit into ``data/``.
- :func:`write_export`: events moved into the simulated week, grouped as Sentry does
  (:mod:`sentry_server`), written as ``data/sentry_errors.json``.
- :func:`report_truth_gaps`: raw items the hand-made ``truth.toml`` does not name.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sentry_server

#: The node tools (``@sentry/browser``, ``@playwright/test``, esbuild, the browser driver): one
#: package.json and one lock for every corpus.
TOOLS = Path(__file__).resolve().parent
NODE_MODULES = TOOLS / "node_modules"

Received = list[tuple[dict[str, Any], datetime]]


def arguments(doc: str | None, *, seed: int, argv: Sequence[str] | None) -> argparse.Namespace:
    """The options every build takes: ``--seed``, ``--skip-playwright``, ``--check``."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=seed)
    parser.add_argument("--skip-playwright", action="store_true", help="only rebuild the Sentry export")
    parser.add_argument("--check", action="store_true", help="only compare data/ with truth.toml")
    return parser.parse_args(argv)


class SimulatedClock:
    """The simulated time of the request being served (requests are sent one at a time)."""

    def __init__(self, start: datetime) -> None:
        self.now = start


def run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, check=True, text=True, **kwargs)


def deploy(app: Path, target: Path, *, bundle: str, linked: Sequence[str]) -> None:
    """Copy ``app`` to ``target`` and bundle the browser SDK to ``target/bundle``.

    ``linked``: folders of the deployed app (``"."`` for its root) that keep a ``node_modules``
    link to the tools, where the Playwright suite runs; the root gets one for esbuild anyway.
    """
    if not (NODE_MODULES / "@playwright" / "test").is_dir() or not (NODE_MODULES / "@sentry").is_dir():
        env = {**os.environ, "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1"}
        run(["npm", "ci", "--no-audit", "--no-fund"], cwd=TOOLS, env=env)
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(app, target, ignore=shutil.ignore_patterns("node_modules", "test-results", "__pycache__"))
    for folder in {*linked, "."}:
        (target / folder / "node_modules").symlink_to(NODE_MODULES)
    entry = target / "sentry-entry.js"
    entry.write_text('import * as Sentry from "@sentry/browser";\nwindow.Sentry = Sentry;\n')
    esbuild = str(NODE_MODULES / ".bin" / "esbuild")
    run([esbuild, str(entry), "--bundle", "--minify", "--format=iife", f"--outfile={target / bundle}"])
    entry.unlink()
    if "." not in linked:
        (target / "node_modules").unlink()


class Collector:
    """Every event the app reports, with the simulated moment it was reported at."""

    def __init__(self, clock: SimulatedClock) -> None:
        self.clock = clock
        self.python: Received = []
        self.browser: Received = []
        self.lock = threading.Lock()

    def browser_envelope(self, path: str, body: bytes) -> None:
        """The events of one envelope the browser SDK posted (header line, then item header +
        payload lines)."""
        lines = body.decode("utf-8").split("\n")
        for index in range(1, len(lines) - 1, 2):
            header = json.loads(lines[index]) if lines[index].strip() else {}
            if header.get("type") == "event":
                with self.lock:
                    self.browser.append((json.loads(lines[index + 1]), self.clock.now))

    def init_sdk(self, **options: Any) -> None:
        """``sentry_sdk.init`` with ``options`` (dsn, release, environment, ...) and a transport
        that keeps every event here instead of sending it."""
        import sentry_sdk
        from sentry_sdk.integrations.stdlib import StdlibIntegration
        from sentry_sdk.transport import Transport

        collector = self

        class MemoryTransport(Transport):
            def capture_envelope(self, envelope: Any) -> None:
                event = envelope.get_event()
                if event is not None:
                    with collector.lock:
                        collector.python.append((event, collector.clock.now))

            def flush(self, timeout: float, callback: Any = None) -> None:
                return None

            def kill(self) -> None:
                return None

        sentry_sdk.init(
            transport=MemoryTransport,
            include_local_variables=False,
            max_breadcrumbs=20,
            # The build's own subprocess and urllib calls are not the app's: no breadcrumbs from them.
            disabled_integrations=[StdlibIntegration()],
            **options,
        )


def serve(httpd: Any, name: str) -> None:
    """Serve the app's HTTP server in a daemon thread (``httpd.shutdown()`` ends it)."""
    threading.Thread(target=httpd.serve_forever, name=name, daemon=True).start()


def call(
    base: str,
    method: str,
    path: str,
    body: Any = None,
    *,
    raw: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> int:
    """One request to the app (JSON ``body`` or ``raw`` text); its HTTP status."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    sent = {"Content-Type": "text/plain" if raw is not None else "application/json", **(headers or {})}
    request = urllib.request.Request(base + path, data=data, method=method, headers=sent)  # noqa: S310 - our loopback server
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our loopback server
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def browse(base: str, visit: Mapping[str, Any], plan_file: Path) -> None:
    """One visit (``{"path": ..., "click": ...}``) in headless Chromium, through ``browse.mjs``."""
    plan_file.write_text(json.dumps([visit]))
    run(["node", str(TOOLS / "browse.mjs"), base, str(plan_file)], cwd=TOOLS, stdout=subprocess.DEVNULL)


def playwright_run(suite: Path, data: Path, env: Mapping[str, str]) -> None:
    """Run the Playwright suite in ``suite``; its json and junit reports go to ``data``."""
    results = suite / "test-results"
    run_env = {
        **os.environ,
        **env,
        "PW_JSON_OUTPUT": str(results / "report.json"),
        "PW_JUNIT_OUTPUT": str(results / "junit.xml"),
        "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1",
        "CI": "1",
    }
    run_env.pop("FORCE_COLOR", None)
    cmd = [str(suite / "node_modules" / ".bin" / "playwright"), "test"]  # argv lands in the report
    print("+", " ".join(cmd), flush=True)
    done = subprocess.run(cmd, cwd=suite, env=run_env, text=True, capture_output=True, check=False)
    if done.returncode not in (0, 1):  # 1 = some tests failed, which is the point
        sys.exit(f"playwright failed to run:\n{done.stdout}\n{done.stderr}")
    data.mkdir(exist_ok=True)
    report = json.loads((results / "report.json").read_text())
    trim_attachments(report)
    (data / "playwright-report.json").write_text(json.dumps(report, indent=1) + "\n")
    shutil.copyfile(results / "junit.xml", data / "junit.xml")


def trim_attachments(node: Any) -> None:
    """Attachments stay listed, their inline bodies go (screenshots are not committed)."""
    if isinstance(node, dict):
        for attachment in node.get("attachments") or []:
            if isinstance(attachment, dict):
                attachment.pop("body", None)
        for value in node.values():
            trim_attachments(value)
    elif isinstance(node, list):
        for value in node:
            trim_attachments(value)


def _moment(value: Any) -> datetime | None:
    """A timestamp as the SDKs give it (datetime, epoch seconds, ISO text), aware."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return None


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def in_simulated_week(event: dict[str, Any], received: datetime) -> dict[str, Any]:
    """The event and its breadcrumbs moved from the build's wall clock to the simulated week."""
    sent = _moment(event.get("timestamp")) or received
    shift = received - sent
    event["timestamp"] = _iso(received)
    crumbs = event.get("breadcrumbs")
    for crumb in (crumbs.get("values") if isinstance(crumbs, dict) else crumbs) or []:
        moment = _moment(crumb.get("timestamp"))
        if moment is not None:
            crumb["timestamp"] = _iso(moment + shift)
    return event


def write_export(
    collector: Collector,
    *,
    backend: tuple[str, str],
    frontend: tuple[str, str],
    web_root: Path,
    end: datetime,
    data: Path,
) -> int:
    """Group the collected events as Sentry does and write ``data/sentry_errors.json``.

    ``backend``/``frontend``: (project slug, project id) of the Python and the browser events;
    ``web_root``: the deployed folder the page's script URLs are served from (source context).
    Returns the number of issues.
    """

    def sources(url: str) -> list[str] | None:
        path = sentry_server._URL_HOST.sub("", url).split("?", 1)[0].lstrip("/")
        target = web_root / path
        return target.read_text().splitlines() if target.is_file() else None

    received = [
        sentry_server.ReceivedEvent(
            project, platform, sentry_server.process(in_simulated_week(e, t), sources), t
        )
        for project, platform, events in (
            (backend[0], "python", collector.python),
            (frontend[0], "javascript", collector.browser),
        )
        for e, t in events
    ]
    groups = sentry_server.group_events(received)
    items = sentry_server.export(
        groups,
        projects={backend[0]: (backend[1], "python"), frontend[0]: (frontend[1], "javascript")},
        end=end,
    )
    data.mkdir(exist_ok=True)
    (data / "sentry_errors.json").write_text(json.dumps(items, indent=1) + "\n")
    return len(items)


def report_truth_gaps(corpus: Path) -> int:
    """Raw items of ``corpus/data`` its hand-made truth does not name (new ones need a person to
    label them): 1 when there are any, else 0."""
    spec = importlib.util.spec_from_file_location("triage_bench", TOOLS.parent / "triage.py")
    if spec is None or spec.loader is None:
        return 1
    triage = importlib.util.module_from_spec(spec)
    sys.modules["triage_bench"] = triage
    spec.loader.exec_module(triage)
    problems = triage.check_truth(triage.corpus_inputs(corpus))
    for problem in problems:
        print(f"truth.toml: {problem}")
    return 1 if problems else 0
