"""`[tool.selfheal.agent]` and `selfheal pr --agent`: checked keys, one clear error naming the key."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from agent_repo import FIX, calc_task, make_repo

from selfheal.cli import main
from selfheal.config import AgentConfig, load_config
from selfheal.contracts import save_tasks
from selfheal.errors import ConfigError


def test_no_agent_table_means_no_agent(tmp_path: Path) -> None:
    assert load_config(tmp_path).agent == AgentConfig()
    assert not AgentConfig().enabled


def test_the_agent_table_is_read(tmp_path: Path) -> None:
    (tmp_path / "selfheal.toml").write_text(
        "[agent]\n"
        'command = ["bin/agent", "--task", "{task_file}"]\n'
        "timeout = 60\n"
        'test_command = ["pytest", "-q"]\n'
        "max_runs = 2\n"
        'protected = ["migrations/*"]\n'
        'env = ["OPENAI_API_KEY"]\n'
        'worktree_dir = "tmp/worktrees"\n'
    )
    agent = load_config(tmp_path).agent
    assert agent.command == ("bin/agent", "--task", "{task_file}")
    assert (agent.display_name, agent.timeout, agent.max_runs) == ("agent", 60.0, 2)
    assert agent.test_command == ("pytest", "-q")
    assert (agent.protected, agent.env) == (("migrations/*",), ("OPENAI_API_KEY",))
    assert agent.worktree_dir == tmp_path / "tmp" / "worktrees"
    assert AgentConfig().max_runs == 5


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ('command = "my-agent {task_file}"', "agent.command"),
        ("command = [1]", "agent.command"),
        ('timeout = "long"', "agent.timeout"),
        ("timeout = 0", "agent.timeout"),
        ("test_timeout = true", "agent.test_timeout"),
        ("max_runs = -1", "agent.max_runs"),
        ("max_runs = 1.5", "agent.max_runs"),
        ('env = ["NOT A NAME"]', "agent.env"),
        ("protected = [true]", "agent.protected"),
        ('name = "bad\\nname"', "agent.name"),
        ("worktree_dir = 3", "agent.worktree_dir"),
        ("commands = []", "agent.commands"),
    ],
)
def test_bad_agent_settings_name_the_key(tmp_path: Path, toml: str, key: str) -> None:
    (tmp_path / "selfheal.toml").write_text(f"[agent]\n{toml}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert str(caught.value).startswith(f"configuration selfheal.toml.{key}:")


def test_cli_agent_option_enables_a_dry_run_agent_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    save_tasks(tmp_path / "out" / "patchtasks.json", [calc_task()])
    assert main(["pr", "--dry-run", "--agent", f"{sys.executable} -m selfheal.testing.scripted_agent"]) == 0
    assert "agent runs: 1 would run" in capsys.readouterr().out
    decision = json.loads((tmp_path / "out" / "pr_plan.json").read_text())["decisions"][0]
    assert decision["agent"]["run"] is True


def test_cli_no_agent_switches_the_configured_agent_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "selfheal.toml").write_text('[agent]\ncommand = ["my-agent"]\n')
    save_tasks(tmp_path / "out" / "patchtasks.json", [calc_task()])
    assert main(["pr", "--dry-run", "--no-agent"]) == 0
    assert "agent" not in capsys.readouterr().out
    assert main(["pr", "--dry-run"]) == 0
    assert "agent runs: 1 would run" in capsys.readouterr().out


def test_a_real_run_outside_a_git_checkout_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from selfheal.testing.fake_github import FakeGitHub

    monkeypatch.chdir(tmp_path)
    save_tasks(tmp_path / "out" / "patchtasks.json", [calc_task()])
    with FakeGitHub() as gh:
        gh.add_repo("acme", "shop")
        for name, value in (
            ("GITHUB_TOKEN", "ghp_x0123456789abcdefghijklmnopqrstuvwxyz"),
            ("GITHUB_OWNER", "acme"),
            ("GITHUB_REPO", "shop"),
            ("GITHUB_API_URL", gh.base_url),
        ):
            monkeypatch.setenv(name, value)
        assert main(["pr", "--agent", "my-agent {task_file}"]) == 2
        assert gh.writes == []  # checked before anything is written
    err = capsys.readouterr().err
    assert err.startswith("selfheal: error: ")
    assert "git rev-parse failed" in err
    assert len(err.strip().splitlines()) == 1


def test_the_checkout_is_used_when_it_is_a_git_repository(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    from selfheal.pullrequests.agent import AgentRunner

    runner = AgentRunner(AgentConfig(command=("x", *FIX)), repo / ".")
    assert runner.repo_root == repo.resolve()
    assert runner.name == "x"
