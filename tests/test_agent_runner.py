"""AgentRunner with real git and real processes: worktree, clean environment, refusals, tests."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
from agent_repo import FIX, PLANTED, agent_config, calc_task, git, make_repo, repo_files

from selfheal.config import AgentConfig
from selfheal.errors import ConfigError
from selfheal.pullrequests.agent import AgentRunner
from selfheal.pullrequests.render import render_task_file, task_file_path


def run_agent(repo: Path, *extra: str, environ: dict[str, str] | None = None, **changes: object):
    task = calc_task()
    runner = AgentRunner(agent_config(*extra, **changes), repo, environ=environ or dict(os.environ))
    return runner.run(task, task_file_path(task), render_task_file(task))


def assert_checkout_untouched(repo: Path, before: dict[str, str]) -> None:
    assert repo_files(repo) == before
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    assert git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1  # the temporary one is gone


def test_the_scripted_agent_fixes_the_planted_bug_and_the_tests_judge_it(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    before = repo_files(repo)
    result = run_agent(repo, *FIX)
    assert result.outcome == "committed", result.detail
    assert [(c.path, c.content, c.mode) for c in result.changes] == [
        ("calc.py", b"def add(a, b):\n    return a + b\n", "100644")
    ]
    assert [(s.path, s.added, s.removed) for s in result.stats] == [("calc.py", 1, 1)]
    assert result.tests is not None
    assert result.tests.passed
    assert "1 passed" in result.tests.output_tail
    assert "Edited `calc.py`" in result.summary  # the agent's own summary file
    assert result.line() == "committed: 1 file, tests passed"
    assert_checkout_untouched(repo, before)


def test_a_change_that_does_not_pass_the_tests_is_still_proposed_with_the_failure(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    result = run_agent(repo, "--replace", "return a - b", "return a * b")
    assert result.outcome == "committed"
    assert result.tests is not None
    assert not result.tests.passed
    assert "add(2, 3) returned 6" in result.tests.output_tail
    assert result.tests_failed
    assert result.line() == "committed: 1 file, tests failing"


@pytest.mark.parametrize(
    ("mode", "outcome", "detail"),
    [
        ("nothing", "no-change", "changed nothing"),
        ("crash", "crashed", "exited with status 3"),
        ("outside", "refused", "wrote outside the repository"),
        ("workflow", "refused", ".github/workflows/ci.yml"),
        ("symlink", "refused", "symlink pointing out of the repository (escape)"),
    ],
)
def test_misbehaving_agents_end_without_a_change(
    tmp_path: Path, mode: str, outcome: str, detail: str
) -> None:
    repo = make_repo(tmp_path)
    before = repo_files(repo)
    result = run_agent(repo, "--mode", mode, *FIX)
    assert (result.outcome, result.changes) == (outcome, ())
    assert detail in result.detail
    assert result.tests is None  # nothing is judged that will not be proposed
    assert_checkout_untouched(repo, before)
    assert not (tmp_path / "outside.txt").exists()


def test_an_agent_writing_into_the_checkout_itself_is_refused(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    script = f"open({str(repo / 'calc.py')!r}, 'a').write('# tampered\\n')"
    task = calc_task()
    config = AgentConfig(command=(sys.executable, "-c", script), name="rogue", timeout=30.0)
    result = AgentRunner(config, repo).run(task, task_file_path(task), render_task_file(task))
    assert result.outcome == "refused"
    assert "in the checkout" in result.detail


def test_a_protected_glob_is_refused(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    result = run_agent(repo, *FIX, protected=("calc*.py",))
    assert result.outcome == "refused"
    assert "protected path calc.py" in result.detail


@pytest.mark.slow  # waits out a 1 s time limit
def test_an_agent_past_its_time_limit_is_killed_with_its_helpers(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    started = time.monotonic()
    result = run_agent(repo, "--mode", "sleep", "--seconds", "20", timeout=1.0)
    assert time.monotonic() - started < 10
    assert result.outcome == "timeout"
    assert "timed out after 1 s" in result.detail
    assert result.changes == ()


def test_the_agent_gets_a_clean_environment_and_its_output_is_scrubbed(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    environ = {
        **os.environ,
        "GITHUB_TOKEN": PLANTED,
        "SENTRY_AUTH_TOKEN": "sntrys_planted_sentry_token_value_123456",
        "MY_SERVICE_PASSWORD": "hunter2hunter2",
        "AGENT_MODEL": "small",
    }
    result = run_agent(
        repo, "--mode", "leak", "--print", PLANTED, *FIX, environ=environ, env=("AGENT_MODEL",)
    )
    assert result.outcome == "committed"
    everything = "\n".join([result.output_tail, result.summary, result.detail])
    assert "AGENT_MODEL=small" in result.output_tail  # named in agent.env: passed
    assert "SELFHEAL_TASK_FILE=" in result.output_tail
    for name in ("GITHUB_TOKEN", "SENTRY_AUTH_TOKEN", "MY_SERVICE_PASSWORD"):
        assert f"{name}=" not in result.output_tail  # never passed
    for secret in (PLANTED, "sntrys_planted_sentry_token_value_123456", "hunter2hunter2"):
        assert secret not in everything
    assert "[REDACTED" in result.summary


def test_a_change_carrying_a_secret_is_refused(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    result = run_agent(repo, "--replace", "return a - b", f"return a + b  # {PLANTED}")
    assert result.outcome == "refused"
    assert "contains a secret" in result.detail
    assert PLANTED not in result.detail


def test_the_agent_starts_from_the_base_commit_plus_the_task_file(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    base = git(repo, "rev-parse", "HEAD")
    (repo / "calc.py").write_text("def add(a, b):\n    return b - a\n", encoding="utf-8")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qam", "later")
    task = calc_task()
    runner = AgentRunner(agent_config(*FIX), repo)
    result = runner.run(task, task_file_path(task), render_task_file(task), base_sha=base)
    # At the base commit calc.py still says `a - b`, which the agent fixes; the task file is not a change.
    assert [c.path for c in result.changes] == ["calc.py"]
    assert result.changes[0].content == b"def add(a, b):\n    return a + b\n"


def test_an_agent_that_commits_its_own_work_is_seen_the_same(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    result = run_agent(repo, *FIX, "--commit")
    assert result.outcome == "committed"
    assert [c.path for c in result.changes] == ["calc.py"]
    assert [(s.path, s.added, s.removed) for s in result.stats] == [("calc.py", 1, 1)]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("http.https://github.com/.extraheader", "AUTHORIZATION: basic eC1hY2Nlc3MtdG9rZW46Z2hzX3h4eA=="),
        ("remote.origin.url", "https://x-access-token:ghs_planted0123456789@github.com/acme/shop.git"),
    ],
)
def test_no_agent_runs_where_the_checkout_stores_credentials(tmp_path: Path, key: str, value: str) -> None:
    repo = make_repo(tmp_path)
    git(repo, "config", key, value)
    with pytest.raises(ConfigError) as caught:
        AgentRunner(agent_config(*FIX), repo)
    assert "persist-credentials: false" in str(caught.value)
    assert value not in str(caught.value)


def test_a_remote_without_credentials_is_fine_and_worktrees_go_where_configured(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    git(repo, "remote", "add", "origin", "https://github.com/acme/shop.git")
    folder = tmp_path / "worktrees"
    result = run_agent(repo, *FIX, worktree_dir=folder)
    assert result.outcome == "committed"
    assert folder.is_dir()
    assert list(folder.iterdir()) == []  # the temporary worktree is gone
