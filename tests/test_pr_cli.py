"""`selfheal pr` from the command line: counts at the end, one clear line on expected failures."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from selfheal.cli import main
from selfheal.contracts import save_tasks
from selfheal.models import Evidence, Occurrence, PatchTask
from selfheal.testing.fake_github import FakeGitHub

TOKEN = "ghp_CliTestToken0123456789abcdefghijklmno"


def make_task(n: int, severity: str) -> PatchTask:
    return PatchTask(
        id=f"sentry-{n}",
        title=f"Error {n}",
        area="backend",
        owner="api",
        severity=severity,  # type: ignore[arg-type]  # tests pass valid literals
        frequency=10 * n,
        last_seen="2026-01-11T15:22:36Z",
        fingerprint=hashlib.sha256(str(n).encode()).hexdigest()[:32],
        source="sentry",
        severity_reasons=(f"rule: {severity}",),
        evidence=Evidence(message=f"boom {n}"),
        occurrences=(Occurrence("sentry", str(n)),),
    )


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("GITHUB_TOKEN", "GITHUB_OWNER", "GITHUB_REPO", "GITHUB_API_URL", "GITHUB_REPOSITORY"):
        monkeypatch.delenv(name, raising=False)
    save_tasks(tmp_path / "out" / "patchtasks.json", [make_task(1, "high"), make_task(2, "low")])
    save_tasks(tmp_path / "out" / "playwright_patchtasks.json", [make_task(3, "blocker")])
    return tmp_path


@pytest.fixture
def gh(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    with FakeGitHub(token=TOKEN) as fake:
        fake.add_repo("acme", "shop")
        monkeypatch.setenv("GITHUB_API_URL", fake.base_url)
        monkeypatch.setenv("GITHUB_OWNER", "acme")
        monkeypatch.setenv("GITHUB_REPO", "shop")
        yield fake
        assert fake.errors == []


def test_dry_run_needs_no_credentials(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pr", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would create 2, would update 0, unchanged 0, skipped 1; GitHub requests: 0" in out
    plan = json.loads((workdir / "out" / "pr_plan.json").read_text())
    assert [d["severity"] for d in plan["decisions"]] == ["blocker", "high", "low"]
    assert len(list((workdir / "out" / "pr_previews").glob("*.md"))) == 2


def test_all_and_severity_choose_what_is_planned(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pr", "--dry-run", "--all"]) == 0
    assert "would create 3" in capsys.readouterr().out
    assert main(["pr", "--dry-run", "--severity", "low", "--max-new", "1"]) == 0
    assert "would create 1, would update 0, unchanged 0, skipped 2" in capsys.readouterr().out


def test_dry_run_with_a_token_only_reads(
    workdir: Path, gh: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    assert main(["pr", "--dry-run"]) == 0
    assert [r.method for r in gh.requests] == ["GET"]


@pytest.mark.slow  # production spacing: PyGithub waits 1 s between writes
def test_real_run_opens_draft_prs_and_prints_counts(
    workdir: Path, gh: FakeGitHub, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("SELFHEAL_GITHUB_PACE", "1")  # GitHub's own pace, as in production
    assert main(["pr", "--max-new", "1"]) == 0
    captured = capsys.readouterr()
    assert (
        "created 1, updated 0, unchanged 0, skipped 2; GitHub requests: 11 (7 writes, 1 listing pages)"
        in (captured.out)
    )
    assert TOKEN not in captured.out + captured.err
    (pr,) = gh.repo().pulls()
    assert pr.draft
    assert pr.labels == ["selfheal", "severity:blocker", "source:sentry"]


def test_missing_token_is_one_line_and_exit_2(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pr"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "GITHUB_TOKEN" in err
    assert "contents: write" in err


def test_bad_token_is_one_line_and_exit_3(
    workdir: Path, gh: FakeGitHub, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_WrongToken0123456789abcdefghijklmnopq")
    assert main(["pr"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("selfheal: error: GitHub HTTP 401")
    assert "ghp_WrongToken" not in err
    assert err.count("\n") == 1


def test_missing_tasks_and_conflicting_options_fail_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["pr", "--dry-run", "--out", "nowhere"]) == 2
    assert "patchtasks.json" in capsys.readouterr().err
    assert main(["pr", "--dry-run", "--all", "--severity", "high"]) == 2
    assert "either --all or --severity" in capsys.readouterr().err


@pytest.mark.slow  # the production backoff (1 + 2 + 4 s) is the property under test: 7 s of waiting
def test_an_unreachable_github_prints_each_retry_and_gives_up_in_bounded_time(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 13: `selfheal pr` against an unreachable GitHub was silent for 32 s."""
    import socket
    import time

    from selfheal.cli import pr

    with socket.socket() as sock:  # a port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GITHUB_TOKEN", TOKEN)
        mp.setenv("GITHUB_OWNER", "acme")
        mp.setenv("GITHUB_REPO", "shop")
        mp.setenv("GITHUB_API_URL", f"http://127.0.0.1:{port}")
        began = time.monotonic()
        code = main(["pr", "--dry-run"])
        elapsed = time.monotonic() - began
    err = capsys.readouterr().err
    assert code == 3
    retries = [line for line in err.splitlines() if "retry" in line and "could not" in line]
    assert len(retries) == pr.GITHUB_RETRIES, err
    assert "retry 1 of 3 in 1.0 s" in retries[0]
    bound = (pr.GITHUB_RETRIES + 1) * pr.GITHUB_TIMEOUT_SECONDS + pr.GITHUB_BACKOFF_SECONDS * (
        2**pr.GITHUB_RETRIES - 1
    )
    assert elapsed < bound
    assert "GITHUB_API_URL" in err.splitlines()[-1]
    assert TOKEN not in err


def test_every_planned_body_renders_whole_as_collapsed_markdown(workdir: Path) -> None:
    """Issue 13: the PR notebook printed one raw preview cut at 4,000 characters mid-JSON."""
    import html as html_lib

    from selfheal.config import load_config
    from selfheal.pullrequests.run import run_pr
    from selfheal.reporting.tables import pr_previews

    frames = tuple(f"at handler_{i} (src/api/module_{i}.py:{10 + i})" for i in range(120))
    long_task = make_task(4, "blocker").with_changes(
        evidence=Evidence(message="<script>alert(1)</script> boom", stack=frames)
    )
    save_tasks(workdir / "out" / "junit_patchtasks.json", [long_task])
    report = run_pr(workdir / "out", load_config(workdir), dry_run=True, list_existing=False)
    texts = [p.read_text(encoding="utf-8") for p in report.previews]
    assert max(len(t) for t in texts) > 4000, "a body longer than the old cut"
    shown = pr_previews(texts)
    page = shown._repr_html_()
    assert shown.count == len(texts) == page.count("<details") == page.count("</details>")
    assert page.count("<pre>") == page.count("</pre>") > 0, "code blocks are whole"
    assert html_lib.escape(frames[-1]) in page, "the end of the longest body is there"
    assert "<script>" not in page, "markup from an error is shown as text"
    assert "<!--" not in page
    plan = json.loads(report.plan_path.read_text(encoding="utf-8"))
    for decision in plan["decisions"]:
        if decision["action"] in ("create", "update"):
            assert html_lib.escape(decision["title"]) in page


def test_run_pr_returns_the_plan_rows_it_wrote_and_minus_one_means_the_configured_limit(
    workdir: Path,
) -> None:
    """Issue 15: the notebook shows the plan from the return value, not read back from disk."""
    from selfheal.config import load_config
    from selfheal.errors import ConfigError
    from selfheal.pullrequests.run import run_pr

    (workdir / "selfheal.toml").write_text("[pr]\nmax_new = 1\nseverities = ['blocker', 'high', 'low']\n")
    config = load_config(workdir)
    report = run_pr(workdir / "out", config, dry_run=True, list_existing=False, max_new=-1)
    written = json.loads(report.plan_path.read_text(encoding="utf-8"))["decisions"]
    assert list(report.plan_rows) == written
    assert [row["action"] for row in report.plan_rows] == ["create", "skip", "skip"]  # the configured 1
    again = run_pr(workdir / "out", config, dry_run=True, list_existing=False, max_new=2)
    assert again.created == 2
    with pytest.raises(ConfigError, match="max_new: must be a whole number >= 0, or -1"):
        run_pr(workdir / "out", config, dry_run=True, list_existing=False, max_new=-2)


def test_a_negative_max_new_on_the_command_line_is_a_configuration_error(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["pr", "--dry-run", "--max-new", "-3"]) == 2
    assert "max_new: must be a whole number >= 0" in capsys.readouterr().err
