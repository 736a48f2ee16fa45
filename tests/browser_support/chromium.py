"""Open a page in headless Chromium with the network off and report what happened.

Chromium is started with a fresh profile, no background networking, and
``--remote-debugging-port=0``; we read the DevTools address from the profile's
``DevToolsActivePort`` file, attach
to a new tab, switch the network off (``Network.emulateNetworkConditions``), and record every
request the page makes, every console error and every uncaught exception while it loads and
draws. :class:`PageVisit` is the result a test asserts on.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websocket

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--metrics-recording-only",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)

# Counts charts, drawn charts and vega views in the page (JSON so one evaluate returns all).
_CHART_STATE = """JSON.stringify({
  charts: document.querySelectorAll("div.selfheal-chart").length,
  drawn: document.querySelectorAll("div.selfheal-chart[data-drawn=true]").length,
  views: document.querySelectorAll(
    "div.selfheal-chart .selfheal-chart-view svg.marks, div.selfheal-chart .selfheal-chart-view canvas.marks"
  ).length,
  marks: document.querySelectorAll(
    "div.selfheal-chart svg.marks g.mark-rect, div.selfheal-chart svg.marks g.mark-line"
  ).length,
  title: document.title,
  ready: document.readyState
})"""


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class PageVisit:
    url: str
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    charts: int = 0
    drawn: int = 0
    views: int = 0
    marks: int = 0
    title: str = ""
    text: str = ""

    @property
    def off_filesystem_requests(self) -> list[str]:
        """Requests for anything but local files and in-page data."""
        return [u for u in self.requests if not u.startswith(("file://", "data:", "blob:", "about:"))]


class DevTools:
    """A tiny DevTools-protocol client over one websocket (flattened target sessions)."""

    def __init__(self, ws_url: str) -> None:
        self._ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self._ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    def close(self) -> None:
        self._ws.close()

    def send(
        self, method: str, params: dict[str, Any] | None = None, *, session: str | None = None
    ) -> dict[str, Any]:
        msg_id = next(self._ids)
        message: dict[str, Any] = {"id": msg_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self._ws.send(json.dumps(message))
        while True:
            reply = json.loads(self._ws.recv())
            if reply.get("id") == msg_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            self.events.append(reply)

    def pump(self, seconds: float) -> None:
        """Collect events for up to ``seconds``."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self._ws.settimeout(left)
            try:
                self.events.append(json.loads(self._ws.recv()))
            except websocket.WebSocketTimeoutException:
                break
        self._ws.settimeout(30)


@contextmanager
def chromium_devtools() -> Iterator[DevTools]:
    """Start headless Chromium with a fresh profile; yield a connected :class:`DevTools`."""
    binary = find_chromium()
    if binary is None:
        raise RuntimeError("chromium is not installed (run `make browser`)")
    profile = tempfile.mkdtemp(prefix="selfheal-chromium-")
    # Its own process group: the browser's helpers (zygote, crash handler) go with it at the end,
    # so none of them still writes into the profile while it is removed.
    proc = subprocess.Popen(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        try:
            # Chromium writes the port it chose and the browser target path to this file.
            port_file = Path(profile) / "DevToolsActivePort"
            deadline = time.monotonic() + 60
            ws_url = None
            while time.monotonic() < deadline and proc.poll() is None:
                lines = port_file.read_text(encoding="utf-8").split() if port_file.exists() else []
                if len(lines) >= 2:
                    ws_url = f"ws://127.0.0.1:{lines[0]}{lines[1]}"
                    break
                time.sleep(0.1)
            if ws_url is None:
                raise RuntimeError(f"chromium did not start (exit code {proc.poll()})")
            tools = DevTools(ws_url)
            try:
                yield tools
            finally:
                tools.close()
        finally:
            _stop_group(proc)
    finally:
        _remove_profile(Path(profile))


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """End the browser and every process of its group (TERM, then KILL after 10 s)."""
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # helpers that outlived the browser


def _remove_profile(profile: Path) -> None:
    """Remove the profile; a helper still closing its files gets a few tenths of a second."""
    for _ in range(30):
        try:
            shutil.rmtree(profile)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.1)
    shutil.rmtree(profile)  # the error, if it is still there


def _describe_console(params: dict[str, Any]) -> str:
    parts = [str(a.get("value", a.get("description", ""))) for a in params.get("args", [])]
    return " ".join(parts)


def visit(tools: DevTools, path: Path, *, settle_seconds: float = 20.0) -> PageVisit:
    """Open ``path`` from file:// offline; wait until every chart drew (or time runs out)."""
    url = path.resolve().as_uri()
    target = tools.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = tools.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    start = len(tools.events)
    for domain in ("Page", "Runtime", "Network", "Log"):
        tools.send(f"{domain}.enable", session=session)
    tools.send(
        "Network.emulateNetworkConditions",
        {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
        session=session,
    )
    tools.send("Page.navigate", {"url": url}, session=session)
    result = PageVisit(url=url)
    deadline = time.monotonic() + settle_seconds
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        tools.pump(0.25)
        raw = tools.send(
            "Runtime.evaluate", {"expression": _CHART_STATE, "returnByValue": True}, session=session
        )["result"].get("value")
        state = json.loads(raw) if isinstance(raw, str) else {}
        if state.get("ready") == "complete" and state.get("drawn", 0) >= state.get("charts", 0):
            break
    tools.pump(0.5)  # late console messages
    text = tools.send(
        "Runtime.evaluate",
        {"expression": "document.body ? document.body.innerText : ''", "returnByValue": True},
        session=session,
    )["result"].get("value", "")
    for event in tools.events[start:]:
        if event.get("sessionId") != session:
            continue
        method, params = event.get("method"), event.get("params", {})
        if method == "Network.requestWillBeSent":
            result.requests.append(params["request"]["url"])
        elif method == "Runtime.consoleAPICalled" and params.get("type") in {"error", "assert"}:
            result.console_errors.append(_describe_console(params))
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            result.exceptions.append(
                str(details.get("exception", {}).get("description") or details.get("text"))
            )
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            result.console_errors.append(f"{entry.get('source')}: {entry.get('text')} {entry.get('url', '')}")
    tools.send("Target.closeTarget", {"targetId": target})
    result.charts = int(state.get("charts", 0))
    result.drawn = int(state.get("drawn", 0))
    result.views = int(state.get("views", 0))
    result.marks = int(state.get("marks", 0))
    result.title = str(state.get("title", ""))
    result.text = str(text)
    return result


def count_on_page(tools: DevTools, path: Path, expression: str, *, tries: int = 40) -> int:
    """Open ``path`` in a new tab and poll ``expression`` (a JS number) until it is non-zero."""
    target = tools.send("Target.createTarget", {"url": path.resolve().as_uri()})["targetId"]
    session = tools.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    count = 0
    for _ in range(tries):
        tools.pump(0.25)
        count = tools.send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=session
        )["result"].get("value", 0)
        if count:
            break
    tools.send("Target.closeTarget", {"targetId": target})
    return count
