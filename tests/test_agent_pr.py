"""`selfheal pr` with a coding agent: real git, real PyGithub, the fake GitHub over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from agent_repo import BUGGY, FIX, PLANTED, TEST, agent_config, calc_task, make_repo

from selfheal.config import Config
from selfheal.models import Evidence, Occurrence, PatchTask
from selfheal.pullrequests.github import GitHubOptions
from selfheal.pullrequests.run import PrReport, run_pr
from selfheal.settings import GitHubSettings
from selfheal.testing.fake_github import FakeGitHub, FakeRepo

TOKEN = "ghp_TestToken0123456789abcdefghijklmnopqr"
TODAY = date(2026, 12, 2)
FIXED = "def add(a, b):\n    return a + b\n"


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub(token=TOKEN) as fake:
        fake.add_repo(
            "acme",
            "shop",
            default_branch="trunk",
            files={"calc.py": BUGGY, "test_calc.py": TEST, ".gitignore": "__pycache__/\n"},
        )
        yield fake
        assert fake.errors == []


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    return make_repo(tmp_path)


def sentry_task(n: int = 1, **changes: Any) -> PatchTask:
    return calc_task(n, occurrences=(Occurrence("sentry", f"{n}00", short_id=f"SHOP-API-{n}"),), **changes)


def run(
    gh: FakeGitHub, out: Path, checkout: Path, tasks: list[PatchTask], *extra: str, **kwargs: Any
) -> PrReport:
    agent_changes = kwargs.pop("agent", {})
    config = Config(repo_root=checkout, agent=agent_config(*extra, **agent_changes))
    kwargs.setdefault("dry_run", False)
    kwargs.setdefault("today", TODAY)
    settings = GitHubSettings(owner="acme", repo="shop", api_url=gh.base_url, token=TOKEN)
    return run_pr(out, config, settings=settings, tasks=tasks, options=GitHubOptions.for_tests(), **kwargs)


def branch_commits(repo: FakeRepo, branch: str) -> list[str]:
    messages = []
    sha: str | None = repo.refs[branch]
    while sha is not None:
        messages.append(repo.commits[sha].message)
        sha = repo.commits[sha].parent
    return messages


def write_paths(gh: FakeGitHub) -> list[tuple[str, str]]:
    return [(r.method, r.path.split("/repos/acme/shop", 1)[1]) for r in gh.writes]


def everything_sent(gh: FakeGitHub) -> str:
    return "\n".join(json.dumps(r.body) for r in gh.requests)


def test_the_scripted_agent_proposes_a_tested_fix_on_the_draft_pr(
    gh: FakeGitHub, checkout: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    report = run(gh, out, checkout, [sentry_task()], *FIX)
    assert (report.created, report.agent_runs) == (1, 1)
    repo = gh.repo()
    (pr,) = repo.pulls()
    assert pr.draft
    assert branch_commits(repo, pr.head) == [
        "selfheal: proposed fix (agent scripted)",
        f"selfheal: add task .selfheal/tasks/{sentry_task().fingerprint}.md",
        "Initial commit",
    ]
    files = repo.files(pr.head)
    assert files["calc.py"] == FIXED
    assert files["test_calc.py"] == TEST  # the agent touched only the file it was pointed at
    assert files[f".selfheal/tasks/{sentry_task().fingerprint}.md"].startswith("<!-- selfheal:fingerprint=")
    body = pr.body or ""
    assert "### Proposed fix (agent scripted)" in body
    assert "| `calc.py` | 1 | 1 |" in body
    assert "1 file changed, 1 insertion(+), 1 deletion(-)" in body
    assert "**tests passed**" in body
    assert "1 passed" in body  # the tail of the test output
    assert "Edited `calc.py`" in body  # the agent's own summary
    assert "Fixes SHOP-API-1" in body
    assert "fix:tests-failing" not in pr.labels
    assert write_paths(gh) == [
        ("POST", "/labels"),
        ("POST", "/labels"),
        ("POST", "/labels"),
        ("POST", "/git/refs"),
        ("PUT", f"/contents/.selfheal/tasks/{sentry_task().fingerprint}.md"),
        ("POST", "/pulls"),
        ("POST", f"/issues/{pr.number}/labels"),
        ("POST", "/git/blobs"),
        ("POST", "/git/trees"),
        ("POST", "/git/commits"),
        ("PATCH", f"/git/refs/heads/{pr.head}"),
        ("PATCH", f"/pulls/{pr.number}"),
    ]
    tree = next(r.body for r in gh.writes if r.path.endswith("/git/trees"))
    assert [(e["path"], e["mode"], e["type"]) for e in tree["tree"]] == [("calc.py", "100644", "blob")]
    plan = json.loads((out / "pr_plan.json").read_text())
    assert plan["decisions"][0]["agent"] == {
        "run": True,
        "reason": "agent scripted: new PR",
        "result": "committed: 1 file, tests passed",
    }
    assert "agent runs: 1 (committed: 1 file, tests passed)" in report.summary()


def test_a_rerun_with_unchanged_tasks_starts_no_agent(gh: FakeGitHub, checkout: Path, tmp_path: Path) -> None:
    log = tmp_path / "runs.log"
    run(gh, tmp_path / "out", checkout, [sentry_task()], *FIX, "--log", str(log))
    assert len(log.read_text().splitlines()) == 1
    gh.clear_requests()
    again = run(gh, tmp_path / "out", checkout, [sentry_task()], *FIX, "--log", str(log))
    assert (again.unchanged, again.agent_runs, gh.writes) == (1, 0, [])
    assert len(log.read_text().splitlines()) == 1
    # Later the same week the counts change but not the evidence: the PR is refreshed, no agent.
    busier = sentry_task(frequency=99)
    later = run(gh, tmp_path / "out", checkout, [busier], *FIX, "--log", str(log), today=date(2026, 12, 5))
    assert (later.updated, later.agent_runs) == (1, 0)
    assert len(log.read_text().splitlines()) == 1
    (pr,) = gh.repo().pulls()
    assert "### Proposed fix (agent scripted)" in (pr.body or "")  # the section survives the refresh
    assert "| Frequency | 99 events |" in (pr.body or "")
    # New evidence: the agent works the task again, the same week.
    changed = sentry_task(frequency=99, evidence=Evidence(message="boom: add(2, 3) returned -1 again"))
    third = run(gh, tmp_path / "out", checkout, [changed], *FIX, "--log", str(log), today=date(2026, 12, 5))
    assert third.agent_runs == 1
    assert len(log.read_text().splitlines()) == 2


def test_after_a_week_a_changed_task_gets_a_new_agent_run(
    gh: FakeGitHub, checkout: Path, tmp_path: Path
) -> None:
    log = tmp_path / "runs.log"
    run(gh, tmp_path / "out", checkout, [sentry_task()], "--mode", "nothing", "--log", str(log))
    report = run(
        gh,
        tmp_path / "out",
        checkout,
        [sentry_task(frequency=70)],
        "--mode",
        "nothing",
        "--log",
        str(log),
        today=date(2026, 12, 10),
    )
    assert report.agent_runs == 1
    assert len(log.read_text().splitlines()) == 2


def test_failing_tests_still_commit_but_the_pr_is_labelled_and_stays_draft(
    gh: FakeGitHub, checkout: Path, tmp_path: Path
) -> None:
    report = run(gh, tmp_path / "out", checkout, [sentry_task()], "--replace", "return a - b", "return a * b")
    (pr,) = gh.repo().pulls()
    assert pr.draft
    assert "fix:tests-failing" in pr.labels
    assert branch_commits(gh.repo(), pr.head)[0] == "selfheal: proposed fix (agent scripted)"
    assert "**tests failing** (exit 1)" in (pr.body or "")
    assert "add(2, 3) returned 6" in (pr.body or "")
    assert "committed: 1 file, tests failing" in report.summary()


@pytest.mark.parametrize(
    ("extra", "agent", "line"),
    [
        (("--mode", "nothing"), {}, "no-change: changed nothing"),
        pytest.param(
            ("--mode", "sleep", "--seconds", "20"),
            {"timeout": 1.0},
            "timeout: timed out after 1 s (killed)",
            marks=pytest.mark.slow,  # waits out the 1 s time limit
        ),
        (("--mode", "crash"), {}, "crashed: exited with status 3"),
        (("--mode", "outside", *FIX), {}, "refused: wrote outside the repository"),
        (("--mode", "workflow", *FIX), {}, "refused: refused a change to .github/workflows/ci.yml"),
    ],
)
def test_an_agent_that_fails_leaves_one_line_and_no_commit(  # noqa: PLR0917 - fixtures plus parameters
    gh: FakeGitHub, checkout: Path, tmp_path: Path, extra: tuple[str, ...], agent: dict[str, Any], line: str
) -> None:
    out = tmp_path / "out"
    report = run(gh, out, checkout, [sentry_task()], *extra, agent=agent)
    repo = gh.repo()
    (pr,) = repo.pulls()
    assert len(branch_commits(repo, pr.head)) == 2  # the task file commit only
    assert repo.files(pr.head)["calc.py"] == BUGGY
    assert not any(r.path.endswith(("/git/blobs", "/git/trees", "/git/commits")) for r in gh.writes)
    body = pr.body or ""
    assert "### Proposed fix" not in body
    assert [x for x in body.splitlines() if x.startswith("**Proposed fix:** none")] != []
    assert "no commit was made" in body
    result = json.loads((out / "pr_plan.json").read_text())["decisions"][0]["agent"]["result"]
    assert result.startswith(line)
    assert report.outcomes[0].agent.startswith(line)


def test_a_planted_token_reaches_neither_github_nor_the_logs(  # noqa: PLR0917 - pytest fixtures
    gh: FakeGitHub,
    checkout: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", PLANTED)
    monkeypatch.setenv("BUGSINK_TOKEN", "bugsink-planted-token-0123456789")
    out = tmp_path / "out"
    report = run(gh, out, checkout, [sentry_task()], "--mode", "leak", "--print", PLANTED, *FIX)
    (pr,) = gh.repo().pulls()
    assert "committed" in report.outcomes[0].agent
    sent = everything_sent(gh)
    logs = capsys.readouterr()
    for secret in (PLANTED, "bugsink-planted-token-0123456789", TOKEN):
        assert secret not in sent
        assert secret not in (pr.body or "")
        assert secret not in (out / "pr_plan.json").read_text()
        assert secret not in logs.out + logs.err + caplog.text
        assert all(secret not in c.message for c in gh.repo().commits.values())
    assert "GITHUB_TOKEN=" not in (pr.body or "")
    assert "[REDACTED" in (pr.body or "")  # the agent's summary repeated the token: scrubbed


def test_max_runs_caps_agent_runs_per_selfheal_pr(gh: FakeGitHub, checkout: Path, tmp_path: Path) -> None:
    log = tmp_path / "runs.log"
    tasks = [sentry_task(n) for n in (1, 2, 3)]
    out = tmp_path / "out"
    report = run(gh, out, checkout, tasks, "--mode", "nothing", "--log", str(log), agent={"max_runs": 2})
    assert (report.created, report.agent_runs) == (3, 2)
    assert len(log.read_text().splitlines()) == 2
    reasons = [d["agent"]["reason"] for d in json.loads((out / "pr_plan.json").read_text())["decisions"]]
    assert reasons.count("agent scripted: limit of 2 agent runs per selfheal pr reached") == 1


def test_a_dry_run_says_which_agent_runs_would_happen_and_runs_none(
    gh: FakeGitHub, checkout: Path, tmp_path: Path
) -> None:
    log = tmp_path / "runs.log"
    out = tmp_path / "out"
    report = run(gh, out, checkout, [sentry_task(1), sentry_task(2)], *FIX, "--log", str(log), dry_run=True)
    assert report.agent_runs == 2
    assert "agent runs: 2 would run" in report.summary()
    assert not log.exists()
    assert gh.writes == []
    decisions = json.loads((out / "pr_plan.json").read_text())["decisions"]
    assert [d["agent"] for d in decisions] == [{"run": True, "reason": "agent scripted: new PR"}] * 2
    preview = next((out / "pr_previews").glob("*.md")).read_text()
    assert "<!-- agent scripted: new PR -->" in preview


def test_no_agent_configured_means_no_agent_keys(gh: FakeGitHub, checkout: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    config = Config(repo_root=checkout)
    settings = GitHubSettings(owner="acme", repo="shop", api_url=gh.base_url, token=TOKEN)
    report = run_pr(
        out,
        config,
        settings=settings,
        tasks=[sentry_task()],
        options=GitHubOptions.for_tests(),
        dry_run=False,
    )
    assert report.agent_runs is None
    assert "agent" not in report.summary()
    assert "agent" not in json.loads((out / "pr_plan.json").read_text())["decisions"][0]
    (pr,) = gh.repo().pulls()
    assert len(branch_commits(gh.repo(), pr.head)) == 2
    assert "Fixes SHOP-API-1" in (pr.body or "")  # Sentry tasks say it, agent or not


def test_a_later_passing_fix_takes_the_tests_failing_label_off(
    gh: FakeGitHub, checkout: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    run(gh, out, checkout, [sentry_task()], "--replace", "return a - b", "return a * b")
    (pr,) = gh.repo().pulls()
    assert "fix:tests-failing" in pr.labels
    later = run(gh, out, checkout, [sentry_task(frequency=80)], *FIX, today=date(2026, 12, 9))
    assert later.outcomes[0].agent == "committed: 1 file, tests passed"
    assert "fix:tests-failing" not in pr.labels
    assert gh.repo().files(pr.head)["calc.py"] == FIXED
    assert branch_commits(gh.repo(), pr.head)[:2] == ["selfheal: proposed fix (agent scripted)"] * 2
    assert (pr.body or "").count("### Proposed fix") == 1  # the new run's section replaced the old one
    assert "**tests passed**" in (pr.body or "")


def test_a_deleted_file_is_deleted_on_the_branch(gh: FakeGitHub, checkout: Path, tmp_path: Path) -> None:
    report = run(gh, tmp_path / "out", checkout, [sentry_task()], *FIX, "--delete", ".gitignore")
    (pr,) = gh.repo().pulls()
    assert report.outcomes[0].agent == "committed: 2 files, tests passed"
    files = gh.repo().files(pr.head)
    assert ".gitignore" not in files
    assert files["calc.py"] == FIXED
    tree = next(r.body for r in gh.writes if r.path.endswith("/git/trees"))
    assert {"path": ".gitignore", "mode": "100644", "type": "blob", "sha": None} in tree["tree"]
    assert "| `.gitignore` | 0 | 1 |" in (pr.body or "")
