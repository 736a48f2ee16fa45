"""The demo data, the scripted agent and the fake GitHub: draft PRs that carry a tested proposed fix."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from agent_repo import git

from selfheal.cli import main
from selfheal.contracts import load_tasks
from selfheal.demo import run_demo
from selfheal.pullrequests.render import sentry_short_ids
from selfheal.testing.fake_github import FakeGitHub

TOKEN = "ghp_DemoToken0123456789abcdefghijklmnopqr"
PLANTED_BUG = "FIXED = False  # the planted bug this demo's scripted agent fixes"
# The shop's "test suite": the files this branch's task points at must not carry the bug.
CHECK = """\
import pathlib, re, sys
tasks = list(pathlib.Path(".selfheal/tasks").glob("*.md"))
named = {p for t in tasks for p in re.findall(r"^- `([^`]+)`$", t.read_text(), re.M)}
present = [pathlib.Path(p) for p in named if pathlib.Path(p).is_file()]
broken = sorted(str(p) for p in present if "FIXED = False" in p.read_text())
print(f"{len(named)} files checked; still broken: {broken or 'none'}")
sys.exit(1 if broken or not named else 0)
"""


def demo_repository(root: Path, hinted: list[str]) -> dict[str, str]:
    """A small 'shop' checkout with a planted bug in every file the demo tasks point at."""
    files = dict.fromkeys(hinted, f"{PLANTED_BUG}\n")
    files["check_fixed.py"] = CHECK
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "shop")
    return files


@pytest.mark.slow
def test_selfheal_pr_on_the_demo_data_opens_drafts_with_tested_fixes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    run_demo(out_dir=Path("out"), reports_dir=Path("reports"), run_notebooks=False, say=lambda _: None)
    tasks = load_tasks(Path("out/patchtasks.json"))
    hinted = sorted({t.expected_fix.files_hint[0] for t in tasks if t.expected_fix.files_hint})
    files = demo_repository(tmp_path / "shop", hinted)
    python = json.dumps(sys.executable)
    Path("selfheal.toml").write_text(
        'repo_root = "shop"\n'
        "[agent]\n"
        f'command = [{python}, "-m", "selfheal.testing.scripted_agent", "--task", "{{task_file}}",'
        ' "--replace", "FIXED = False", "FIXED = True"]\n'
        'name = "scripted"\n'
        "timeout = 60\n"
        f'test_command = [{python}, "check_fixed.py"]\n'
    )
    with FakeGitHub(token=TOKEN) as gh:
        gh.add_repo("acme", "shop", files=files)
        for name, value in (
            ("GITHUB_TOKEN", TOKEN),
            ("GITHUB_OWNER", "acme"),
            ("GITHUB_REPO", "shop"),
            ("GITHUB_API_URL", gh.base_url),
        ):
            monkeypatch.setenv(name, value)
        assert main(["pr"]) == 0
        assert gh.errors == []
        repo = gh.repo()
        pulls = repo.pulls()
        assert len(pulls) == 5  # the demo plans five draft PRs (blocker + high, at most five new)
        by_fingerprint = {t.fingerprint[:12]: t for t in tasks}
        for pr in pulls:
            task = by_fingerprint[pr.head.removeprefix("selfheal/")]
            head = repo.commits[repo.refs[pr.head]]
            assert pr.draft
            assert head.message == "selfheal: proposed fix (agent scripted)"
            assert repo.commits[str(head.parent)].message.startswith("selfheal: add task .selfheal/tasks/")
            assert repo.files(pr.head)[task.expected_fix.files_hint[0]].startswith("FIXED = True")
            assert "**tests passed**" in (pr.body or "")
            for short_id in sentry_short_ids(task):
                assert f"Fixes {short_id}" in (pr.body or "")
        assert sum(1 for pr in pulls if "Fixes SHOP-" in (pr.body or "")) >= 3
    summary = capsys.readouterr().out
    print(summary)  # shown with -rP: the request counts of the run
    assert "created 5" in summary
    assert "agent runs: 5 (" + "; ".join(["committed: 1 file, tests passed"] * 5) + ")" in summary
