"""`selfheal pull sentry` end to end: environment in, file and summary out, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import CliResult, CliRunner

from selfheal.cli import main
from selfheal.errors import ConfigError
from selfheal.testing.fake_sentry import FakeSentry

SECRET = "sntryu_" + "c0ffee" * 8
SENTRY_VARS = (
    "SENTRY_AUTH_TOKEN",
    "SENTRY_ORG",
    "SENTRY_PROJECT",
    "SENTRY_ENV",
    "SENTRY_ERROR_LIMIT",
    "SENTRY_BASE_URL",
    "CI",
)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in SENTRY_VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _env_for(fake: FakeSentry, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in SENTRY_VARS}
    env.update(SENTRY_AUTH_TOKEN=fake.token, SENTRY_ORG=fake.org, SENTRY_BASE_URL=fake.base_url, **extra)
    return env


@pytest.mark.slow  # a selfheal process
def test_pull_sentry_in_a_real_process_writes_the_file_and_a_summary(tmp_path: Path) -> None:
    with FakeSentry.synthetic(130, token=SECRET) as fake:
        result = subprocess.run(
            [sys.executable, "-m", "selfheal", "pull", "sentry", "--limit", "0", "--out", str(tmp_path)],
            env=_env_for(fake, SENTRY_ENV="staging", CI="true"),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        items = json.loads((tmp_path / "sentry_errors.json").read_text(encoding="utf-8"))
        assert [item["issue"]["id"] for item in items] == fake.issue_ids()
        assert "pulled 130 issues from Sentry: 130 latest events, 0 missing; 132 requests" in result.stderr
        assert fake.requests[0].query["environment"] == ("staging",)
        assert SECRET not in result.stdout + result.stderr


def test_limit_comes_from_the_environment_and_options_override_it(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeSentry.synthetic(40) as fake:
        for name, value in _env_for(
            fake, SENTRY_ERROR_LIMIT="7", SENTRY_PROJECT="pump-station,other"
        ).items():
            if name.startswith("SENTRY_"):
                clean_env.setenv(name, value)
        assert main(["pull", "sentry", "--out", str(tmp_path), "--no-progress"]) == 0
        assert len(json.loads((tmp_path / "sentry_errors.json").read_text())) == 7
        assert fake.requests[0].query["project"] == ("pump-station", "other")
        out = tmp_path / "second"
        argv = ["pull", "sentry", "--out", str(out), "--limit", "12", "--project", "pump-station"]
        argv += ["--environment", "", "--stats-period", "24h", "--sort", "new", "--concurrency", "2"]
        assert main(argv) == 0
        assert len(json.loads((out / "sentry_errors.json").read_text())) == 12
        query = [r for r in fake.requests if r.is_issue_list_request][-1].query
        assert query["project"] == ("pump-station",)
        assert query["statsPeriod"] == ("24h",)
        assert query["sort"] == ("new",)
        assert "environment" not in query
    assert "pulled 12 issues" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"SENTRY_ORG": "acme"}, "SENTRY_AUTH_TOKEN is not set"),
        ({"SENTRY_AUTH_TOKEN": SECRET}, "SENTRY_ORG is not set"),
        (
            {"SENTRY_AUTH_TOKEN": SECRET, "SENTRY_ORG": "acme", "SENTRY_BASE_URL": "ftp://sentry.example"},
            "SENTRY_BASE_URL: must be an http(s) URL",
        ),
        (
            {"SENTRY_AUTH_TOKEN": SECRET, "SENTRY_ORG": "acme", "SENTRY_ERROR_LIMIT": "ten"},
            "SENTRY_ERROR_LIMIT: must be a whole number",
        ),
    ],
)
def test_bad_environment_is_one_line_and_exit_2(
    clean_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    env: dict[str, str],
    expected: str,
) -> None:
    for name, value in env.items():
        clean_env.setenv(name, value)
    assert main(["pull", "sentry", "--out", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("selfheal: error: ")
    assert expected in captured.err
    assert captured.err.count("\n") == 1
    assert SECRET not in captured.out + captured.err
    assert not (tmp_path / "sentry_errors.json").exists()


def test_a_rejected_token_is_one_line_exit_3_and_never_printed(tmp_path: Path, run_cli: CliRunner) -> None:
    with FakeSentry.synthetic(3) as fake:
        env = _env_for(fake)
        env["SENTRY_AUTH_TOKEN"] = SECRET
        result = run_cli("pull", "sentry", "--out", str(tmp_path), env=env)
    assert result.returncode == 3
    assert result.stderr.count("\n") == 1
    assert "HTTP 401" in result.stderr
    assert "event:read, project:read, org:read" in result.stderr
    assert SECRET not in result.stdout + result.stderr


def test_missing_scope_names_it(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with FakeSentry.synthetic(3, denied_scopes={"event:read"}) as fake:
        for name, value in _env_for(fake).items():
            if name.startswith("SENTRY_"):
                clean_env.setenv(name, value)
        assert main(["pull", "sentry", "--out", str(tmp_path)]) == 3
    err = capsys.readouterr().err
    assert "HTTP 403" in err
    assert "lacks the event:read scope" in err


def test_bad_options_are_refused_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--limit", "-3"], ["--concurrency", "0"], ["--sort", "sideways"]):
        with pytest.raises(SystemExit) as caught:
            main(["pull", "sentry", *argv])
        assert caught.value.code == 2
    assert "must not be negative" in capsys.readouterr().err


def test_retries_are_reported_as_readable_lines(tmp_path: Path, run_cli: CliRunner) -> None:
    with FakeSentry.synthetic(3, token=SECRET) as fake:
        fake.inject("error", status=503, path="/events/")
        result = run_cli("pull", "sentry", "--out", str(tmp_path), env=_env_for(fake, CI="true"))
    assert result.returncode == 0, result.stderr
    (retry_line,) = [line for line in result.stderr.splitlines() if "retry" in line and "after" in line]
    assert retry_line.startswith("selfheal: retry 1 in ")
    assert "after HTTP 503 from http://127.0.0.1:" in retry_line
    assert "stamina.retry_scheduled" not in result.stderr
    assert "(1 retries, 1 pages)" in result.stderr
    assert SECRET not in result.stderr


@pytest.fixture
def pull_sentry_cli(run_cli: CliRunner) -> Callable[..., CliResult]:
    def pull(tmp_path: Path, env: dict[str, str], *args: str) -> CliResult:
        return run_cli("pull", "sentry", "--out", str(tmp_path), *args, env=env)

    return pull


def test_a_wrong_organization_names_the_settings_to_check(
    tmp_path: Path, pull_sentry_cli: Callable[..., CliResult]
) -> None:
    """Issue 13: a wrong SENTRY_ORG was a bare 404."""
    with FakeSentry.synthetic(3) as fake:
        result = pull_sentry_cli(tmp_path, {**_env_for(fake), "SENTRY_ORG": "no-such-org"})
    assert result.returncode == 3
    (line,) = result.stderr.splitlines()
    assert line.startswith("selfheal: error: Sentry HTTP 404")
    assert "organization 'no-such-org' not found" in line
    assert "SENTRY_ORG" in line
    assert "SENTRY_BASE_URL" in line


def test_an_unknown_project_is_an_error_naming_sentry_project(
    tmp_path: Path, pull_sentry_cli: Callable[..., CliResult]
) -> None:
    """Issue 13: SENTRY_PROJECT=nope pulled 0 issues and exited 0 silently."""
    with FakeSentry.synthetic(3) as fake:
        result = pull_sentry_cli(tmp_path, {**_env_for(fake), "SENTRY_PROJECT": "nope"})
        existing = {**_env_for(fake), "SENTRY_PROJECT": "pump-station"}
        known = pull_sentry_cli(tmp_path / "known", existing, "--limit", "0")
    assert result.returncode == 3
    (line,) = result.stderr.splitlines()
    assert "project 'nope' not found" in line
    assert "SENTRY_PROJECT" in line
    assert "pump-station" in line  # the projects that do exist
    assert not (tmp_path / "sentry_errors.json").exists()
    assert known.returncode == 0, known.stderr
    assert len(json.loads((tmp_path / "known" / "sentry_errors.json").read_text())) == 3


@pytest.mark.slow  # the property needs a pull several progress intervals long
def test_without_a_terminal_progress_prints_a_line_at_least_every_interval(
    tmp_path: Path, pull_sentry_cli: Callable[..., CliResult]
) -> None:
    """Issue 13: in CI a 5,000-issue pull printed nothing for 38 s (lines every 5 s by default;
    here SELFHEAL_PROGRESS_SECONDS=0.25 so a short pull spans several intervals)."""
    import time

    interval = 0.25
    with FakeSentry.synthetic(50, latency=0.03) as fake:
        began = time.monotonic()
        env = _env_for(fake, CI="true", SELFHEAL_PROGRESS_SECONDS=str(interval))
        result = pull_sentry_cli(tmp_path, env, "--limit", "0", "--concurrency", "1")
        elapsed = time.monotonic() - began
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if "issues listed" in line]
    assert elapsed > 4 * interval, "the pull is long enough to need progress lines"
    assert len(lines) >= int(elapsed // (2 * interval)), result.stderr
    assert "pulling:" in lines[0]
    assert "Sentry done: 50 of 50 issues listed, 50 latest events fetched" in lines[-1]


def test_a_wrong_progress_interval_is_one_line_naming_the_variable() -> None:
    from selfheal.settings import progress_seconds_from_env

    assert progress_seconds_from_env({}) == 5.0
    assert progress_seconds_from_env({"SELFHEAL_PROGRESS_SECONDS": "0.5"}) == 0.5
    for wrong in ("0", "-1", "often"):
        with pytest.raises(ConfigError, match="SELFHEAL_PROGRESS_SECONDS"):
            progress_seconds_from_env({"SELFHEAL_PROGRESS_SECONDS": wrong})


HEAVY_MODULES = ("httpx", "polars", "jsonschema", "github", "papermill", "nbconvert", "altair", "stamina")


def test_help_starts_fast_without_importing_heavy_modules() -> None:
    """Issue 13: `selfheal --help` took 3.2 s (jsonschema's format checker and other imports)."""
    import time

    probe = (
        "import sys\n"
        "from selfheal.cli import build_parser\n"
        "build_parser().format_help()\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY_MODULES!r})))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"
    timings = []
    for _ in range(3):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-m", "selfheal", "--help"], capture_output=True, check=True)
        timings.append(time.perf_counter() - began)
    assert min(timings) < 0.5


def test_the_cli_default_concurrency_is_the_clients() -> None:
    from selfheal.cli.pull import DEFAULT_CONCURRENCY
    from selfheal.sources._http import DEFAULT_CONCURRENCY as CLIENT_DEFAULT

    assert DEFAULT_CONCURRENCY == CLIENT_DEFAULT
