"""A throw-away git repository with a planted bug and a failing test, for the agent tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from task_builders import make_task

from selfheal.config import AgentConfig
from selfheal.models import ExpectedFix, PatchTask

BUGGY = "def add(a, b):\n    return a - b\n"
TEST = "from calc import add\n\nassert add(2, 3) == 5, f'add(2, 3) returned {add(2, 3)}'\nprint('1 passed')\n"
AGENT = (sys.executable, "-m", "selfheal.testing.scripted_agent", "--task", "{task_file}")
FIX = ("--replace", "return a - b", "return a + b")
TESTS = (sys.executable, "test_calc.py")
PLANTED = "ghp_PlantedToken0123456789abcdefghijklmn"


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def make_repo(root: Path) -> Path:
    """``root/checkout``: calc.py subtracts; test_calc.py fails until it adds."""
    repo = root / "checkout"
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "trunk")
    (repo / "calc.py").write_text(BUGGY, encoding="utf-8")
    (repo / "test_calc.py").write_text(TEST, encoding="utf-8")
    (repo / ".gitignore").write_text("__pycache__/\n", encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "initial")
    return repo


def repo_files(repo: Path) -> dict[str, str]:
    return {p: (repo / p).read_text(encoding="utf-8") for p in git(repo, "ls-files").splitlines()}


def agent_config(*extra: str, **changes: Any) -> AgentConfig:
    values: dict[str, Any] = {
        "command": (*AGENT, *extra),
        "name": "scripted",
        "timeout": 30.0,
        "test_command": TESTS,
        "test_timeout": 30.0,
    }
    values.update(changes)
    return AgentConfig(**values)


def calc_task(n: int = 1, **changes: Any) -> PatchTask:
    frequency = changes.pop("frequency", 40)
    return make_task(
        n,
        "high",
        frequency,
        title=f"AssertionError: add(2, 3) returned -1 (task {n})",
        expected_fix=ExpectedFix(kind="bugfix", files_hint=("calc.py",), notes="add() subtracts"),
        **changes,
    )
