"""Faults of the services and of the process: one clear line, the exit code, earlier outputs
intact, and every request bounded in time and size."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from task_builders import make_task

from adversarial.checks import one_error_line
from selfheal.cli import main
from selfheal.contracts import save_tasks
from selfheal.errors import RemoteError
from selfheal.sources._http import ApiClient, RetryPolicy
from selfheal.testing.fake_github import FakeGitHub
from selfheal.testing.fake_sentry import FakeSentry

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
EXPORT = FIXTURES / "seed" / "real-sentry_errors.json"
GITHUB_TOKEN = "ghp_FaultsToken0123456789abcdefghijklmno"
PASSWORD = "pw-Secret-7781"


@pytest.fixture
def sentry(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSentry]:
    with FakeSentry.from_export(EXPORT) as fake:
        monkeypatch.setenv("SENTRY_AUTH_TOKEN", fake.token)
        monkeypatch.setenv("SENTRY_ORG", fake.org)
        monkeypatch.setenv("SENTRY_BASE_URL", fake.base_url)
        yield fake


@pytest.fixture
def earlier(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    save_tasks(out / "patchtasks.json", [make_task(1)])
    (out / "sentry_errors.json").write_text("[]\n")
    return out


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


# --- Sentry -------------------------------------------------------------------------------
_FAST = RetryPolicy(
    attempts=2, wait_initial=0.01, wait_max=0.02, wait_jitter=0.0, request_timeout=1.5, request_deadline=1.5
)


def _get(fake: FakeSentry, policy: RetryPolicy) -> None:
    async def go() -> None:
        async with ApiClient(fake.base_url, fake.token, service="Sentry", retry=policy) as client:
            await client.get_json(f"api/0/organizations/{fake.org}/issues/")

    asyncio.run(go())


@pytest.mark.slow  # waits out two 1.5 s deadlines
@pytest.mark.timeout(60)
def test_a_server_dripping_one_byte_at_a_time_is_cut_off_at_the_request_deadline(sentry: FakeSentry) -> None:
    sentry.drip_interval = 0.5  # the body takes 100 s at this pace
    sentry.inject("drip", count=5)
    started = time.monotonic()
    with pytest.raises(RemoteError, match=r"Sentry did not answer within 1\.5 s"):
        _get(sentry, _FAST)
    # two attempts of 1.5 s each, plus the backoff: the deadline is per request, not per read
    assert time.monotonic() - started < 2 * 1.5 + 2


@pytest.mark.timeout(60)
def test_an_endless_body_is_capped(sentry: FakeSentry) -> None:
    sentry.inject("endless", count=5)
    with pytest.raises(RemoteError, match="Sentry sent a body larger than the limit of 1,000,000 bytes"):
        _get(sentry, RetryPolicy(attempts=1, request_timeout=20, max_body_bytes=1_000_000))


@pytest.mark.parametrize(
    ("fault", "needle"),
    [("html", "HTML page"), ("redirect_away", "another origin"), ("endless", "larger than the limit")],
)
@pytest.mark.timeout(120)
def test_sentry_faults_are_one_line_and_leave_earlier_outputs_intact(
    sentry: FakeSentry, earlier: Path, capsys: pytest.CaptureFixture[str], fault: str, needle: str
) -> None:
    sentry.inject(fault, count=50)  # type: ignore[arg-type]  # the parametrized names are FaultKind
    before = _snapshot(earlier)
    assert main(["pull", "sentry", "--out", str(earlier), "--no-progress"]) == 3
    one_error_line(capsys.readouterr().err, needle)
    assert _snapshot(earlier) == before
    if fault == "redirect_away":
        # the token never went to the other origin: every request reached the configured one
        assert all(r.path.startswith("/api/0/") for r in sentry.requests)


def test_credentials_in_the_base_url_are_never_printed(
    sentry: FakeSentry, earlier: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SENTRY_BASE_URL", sentry.base_url.replace("http://", f"http://svc:{PASSWORD}@"))
    monkeypatch.setenv("SENTRY_AUTH_TOKEN", "wrong-token-value")
    code = main(["pull", "sentry", "--out", str(earlier), "--no-progress"])
    main(["doctor", "--skip-github"])
    captured = capsys.readouterr()
    assert code == 3
    assert PASSWORD not in captured.out + captured.err
    assert "wrong-token-value" not in captured.out + captured.err


# --- GitHub -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path"), [("POST", r"/pulls$"), ("GET", r"/pulls$"), ("POST", r"/git/refs$")]
)
def test_an_html_page_from_a_proxy_is_one_line(
    earlier: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    method: str,
    path: str,
) -> None:
    monkeypatch.chdir(earlier.parent)
    with FakeGitHub(token=GITHUB_TOKEN) as gh:
        gh.add_repo("acme", "shop")
        for name, value in {
            "GITHUB_API_URL": gh.base_url,
            "GITHUB_OWNER": "acme",
            "GITHUB_REPO": "shop",
            "GITHUB_TOKEN": GITHUB_TOKEN,
        }.items():
            monkeypatch.setenv(name, value)
        gh.inject("html", method=method, path=path, count=20)
        tasks = (earlier / "patchtasks.json").read_bytes()
        assert main(["pr", "--out", str(earlier)]) == 3
        one_error_line(capsys.readouterr().err, "HTML page", "proxy or captive portal")
        assert (earlier / "patchtasks.json").read_bytes() == tasks
        # the next run, once the proxy is gone, finishes the job with one PR
        gh.clear_faults()
        assert main(["pr", "--out", str(earlier)]) == 0
        assert len(gh.repos["acme/shop"].pulls()) == 1


# --- signals ------------------------------------------------------------------------------
def _selfheal(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "selfheal", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def _wait_until_selfheal_catches_sigterm(process: subprocess.Popen[str]) -> None:
    """Until the first line of ``selfheal/__init__.py`` has run (the start-up handlers of
    ``startup_signals`` are set; Python itself catches no SIGTERM). Before that a signal meets
    only Python's own start-up, which no code of ours can handle."""
    bit = 1 << (signal.SIGTERM - 1)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        status = Path(f"/proc/{process.pid}/status").read_text()
        caught = next(line for line in status.splitlines() if line.startswith("SigCgt:"))
        if int(caught.split()[1], 16) & bit:
            return
        time.sleep(0.005)
    raise AssertionError("selfheal never set its start-up signal handlers")


@pytest.mark.slow  # a selfheal process per case
@pytest.mark.parametrize("delay", [0.0, 0.3, 0.8, 1.5])
@pytest.mark.timeout(90)
def test_ctrl_c_early_is_one_line_not_a_traceback(delay: float, sentry: FakeSentry, earlier: Path) -> None:
    # Each request takes a second, so the pull cannot have finished when the signal comes,
    # whatever the machine: at first the interpreter is still importing, later it is pulling.
    sentry.latency = 1.0
    before = _snapshot(earlier)
    process = _selfheal("pull", "sentry", "--limit", "0", "--out", str(earlier), "--no-progress")
    _wait_until_selfheal_catches_sigterm(process)
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert "selfheal: interrupted" in err
    assert _snapshot(earlier) == before


@pytest.mark.slow  # 30 selfheal processes
@pytest.mark.timeout(180)
def test_ctrl_c_in_the_first_tenth_of_a_second_always_exits_130(sentry: FakeSentry, earlier: Path) -> None:
    # The moments just after start-up are where the commands import lazily (and CPython then
    # ended 1 run in 20 by SIGINT instead of 130); 30 interrupts spread over them.
    sentry.latency = 1.0
    before = _snapshot(earlier)
    codes: list[int] = []
    for run in range(30):
        process = _selfheal("pull", "sentry", "--limit", "0", "--out", str(earlier), "--no-progress")
        _wait_until_selfheal_catches_sigterm(process)
        time.sleep((run % 10) * 0.01)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
        codes.append(process.returncode)
        assert "Traceback" not in err
    assert codes == [130] * 30
    assert _snapshot(earlier) == before


# A Ctrl-C that lands in a callback Python cannot raise from: once the command runs, the next
# garbage collection finds an object whose __del__ raises KeyboardInterrupt (what a SIGINT
# during a weakref callback of the import system amounts to).
_LOST_CTRL_C = """
import gc, sys
from selfheal.cli import main

class LandsInACallback:
    def __del__(self):
        raise KeyboardInterrupt

armed = []

def arm(phase, info):
    if phase == "start" and not armed and sys.unraisablehook is not sys.__unraisablehook__:
        armed.append(True)
        bomb = LandsInACallback()
        bomb.cycle = bomb  # only the collector frees it: at the next collection

gc.callbacks.append(arm)
gc.set_threshold(50)
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow  # a Python process
@pytest.mark.timeout(90)
def test_a_ctrl_c_python_could_only_print_as_ignored_still_stops_the_command(
    sentry: FakeSentry, earlier: Path
) -> None:
    sentry.latency = 1.0  # the pull would take seconds: it must not run to its end
    before = _snapshot(earlier)
    args = ["pull", "sentry", "--limit", "0", "--out", str(earlier), "--no-progress"]
    done = subprocess.run(
        [sys.executable, "-c", _LOST_CTRL_C, *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 130, done.stderr
    assert "Exception ignored" not in done.stderr
    assert "selfheal: interrupted; files written so far are complete" in done.stderr
    assert _snapshot(earlier) == before


@pytest.mark.slow  # a selfheal process
@pytest.mark.timeout(90)
def test_sigterm_during_a_pull_is_handled_like_sigint(sentry: FakeSentry, earlier: Path) -> None:
    sentry.latency = 1.0  # each request takes a second: the pull is under way when TERM comes
    before = _snapshot(earlier)
    process = _selfheal("pull", "sentry", "--limit", "0", "--out", str(earlier), "--no-progress")
    deadline = time.monotonic() + 40
    # In flight, not logged: a request is logged once answered, and the whole pull may be done by
    # the time a loaded machine lets us look again.
    while sentry.max_in_flight == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sentry.max_in_flight, "the pull never reached the fake"
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 128 + signal.SIGTERM, err
    assert "Traceback" not in err
    assert "terminated" in err
    assert _snapshot(earlier) == before


def test_lone_surrogates_from_sentry_are_no_error_in_pull_normalize_and_pr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    items = json.loads(EXPORT.read_text())
    for item in items:
        item["issue"]["title"] += " \ud83d"  # a truncated emoji from a JavaScript client
        item["issue"]["culprit"] = f"{item['issue'].get('culprit') or ''} \udc00"
    with FakeSentry.from_export(items) as fake:
        monkeypatch.setenv("SENTRY_AUTH_TOKEN", fake.token)
        monkeypatch.setenv("SENTRY_ORG", fake.org)
        monkeypatch.setenv("SENTRY_BASE_URL", fake.base_url)
        out = tmp_path / "out"
        assert main(["pull", "sentry", "--out", str(out), "--no-progress", "--limit", "0"]) == 0
    assert main(["normalize", "sentry", "--out", str(out), "--min-frequency", "0"]) == 0
    monkeypatch.chdir(tmp_path)
    assert main(["pr", "--dry-run", "--all", "--out", str(out)]) == 0
    tasks = json.loads((out / "patchtasks.json").read_text(encoding="utf-8"))
    assert any("\ufffd" in t["title"] or "?" in t["title"] for t in tasks)


@pytest.mark.parametrize("status", [301, 302, 307])
def test_a_github_redirect_to_another_origin_is_refused_and_the_token_stays_home(
    earlier: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], status: int
) -> None:
    monkeypatch.chdir(earlier.parent)
    with FakeGitHub(token=GITHUB_TOKEN) as gh, FakeGitHub(token=None) as elsewhere:
        gh.add_repo("acme", "shop")
        for name, value in {
            "GITHUB_API_URL": gh.base_url,
            "GITHUB_OWNER": "acme",
            "GITHUB_REPO": "shop",
            "GITHUB_TOKEN": GITHUB_TOKEN,
        }.items():
            monkeypatch.setenv(name, value)
        target = elsewhere.base_url.replace("127.0.0.1", "localhost") + "/repos/acme/shop/pulls"
        gh.inject(
            method="GET", path=r"/pulls$", status=status, body={}, headers={"Location": target}, count=20
        )
        assert main(["pr", "--out", str(earlier)]) == 3
        one_error_line(capsys.readouterr().err)
        assert elsewhere.requests == []
        assert gh.repos["acme/shop"].pulls() == []
