"""The shipped workflow's own `run:` steps, executed in job order by bash, against the fake
Sentry and the fake GitHub: what CI would do on a Monday, minus GitHub's runner."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from selfheal.pipeline import sample_path
from selfheal.storage import read_json
from selfheal.testing.fake_github import FakeGitHub
from selfheal.testing.fake_sentry import FakeSentry

REPO = Path(__file__).resolve().parent.parent
SENTRY_TOKEN = "sntrys_workflowRunToken0123456789abcdef"
GITHUB_TOKEN = "ghp_workflowRunToken0123456789abcdefABCD"


def _jobs() -> dict[str, Any]:
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "self-healing.yml").read_text())
    jobs: dict[str, Any] = workflow["jobs"]
    return jobs


def _run_steps(job: dict[str, Any], cwd: Path, env: dict[str, str], secrets: dict[str, str]) -> list[str]:
    """Run each `run:` step but the install (selfheal is installed here); return their names."""
    ran = []
    for step in job["steps"]:
        script = step.get("run")
        if script is None or "pip install" in script:
            continue
        # GitHub substitutes ${{ secrets.X }} in the step's env; the scripts never see secrets.
        step_env = {name: secrets[name] for name in (step.get("env") or {}) if name in secrets}
        result = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", script],
            cwd=cwd,
            env={**env, **step_env},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        output = result.stdout + result.stderr
        assert SENTRY_TOKEN not in output
        assert GITHUB_TOKEN not in output
        assert result.returncode == 0, f"step {step.get('name')!r} failed:\n{output}"
        ran.append(str(step.get("name")))
    return ran


@pytest.mark.slow
def test_weekly_run_steps_report_and_open_draft_prs_against_the_fakes(tmp_path: Path) -> None:
    repository = tmp_path / "repository"
    shutil.copytree(REPO / "notebooks", repository / "notebooks")
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    base_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SENTRY_", "GITHUB_", "BUGSINK_"))},
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "RUNNER_TEMP": str(runner_temp),
        "GITHUB_OUTPUT": str(runner_temp / "github-output"),
    }
    jobs = _jobs()
    with (
        FakeSentry.from_export(sample_path("sentry_errors.json"), token=SENTRY_TOKEN) as sentry,
        FakeGitHub(token=GITHUB_TOKEN) as github,
    ):
        github.add_repo("acme", "shop", default_branch="trunk")
        report_env = {
            **base_env,
            "SENTRY_ORG": sentry.org,  # vars.SENTRY_ORG
            "SENTRY_PROJECT": "",  # vars.* that are not set arrive empty
            "SENTRY_BASE_URL": sentry.base_url,
            "SENTRY_ENV": "",
            "SENTRY_ERROR_LIMIT": "10",  # inputs.limit || vars.SENTRY_ERROR_LIMIT || 10
            "SENTRY_ERROR_MIN_FREQUENCY": "",
        }
        ran = _run_steps(jobs["report"], repository, report_env, {"SENTRY_AUTH_TOKEN": SENTRY_TOKEN})
        assert ran == [
            "Check configuration and Sentry access",
            # Issue 13 renamed it: it also restores the dashboard history and fetches the test report.
            "Fetch last week's results and the test report",  # no gh and no earlier run: all new
            "Pull, normalize, analyze (notebooks via papermill)",
        ]
        assert (repository / "reports" / "index.html").is_file()
        tasks = read_json(repository / "out" / "patchtasks.json")
        assert tasks, "the notebooks turned the pulled issues into PatchTasks"
        assert any(r.is_issue_list_request for r in sentry.requests)

        # The pull-requests job gets out/ from the report job's artifact: the same folder here.
        pr_env = {
            **base_env,
            "GITHUB_OWNER": "acme",
            "GITHUB_REPO": "shop",
            "GITHUB_API_URL": github.base_url,  # set by GitHub Actions on a runner
            "DRY_RUN": "false",  # inputs.dry_run unticked
            "SCHEDULED_DRY_RUN": "",
            "SEVERITIES": "blocker,high",
        }
        ran = _run_steps(jobs["pull-requests"], repository, pr_env, {"GITHUB_TOKEN": GITHUB_TOKEN})
        assert ran == ["Check GitHub access", "Open or update draft PRs (or preview them)"]

    plan = read_json(repository / "out" / "pr_plan.json")
    created = [d for d in plan["decisions"] if d["action"] == "create"]
    pulls = github.repo("acme/shop").pulls()
    assert created, "the sample has blocker/high tasks"
    assert len(pulls) == len(created)
    assert all(pr.draft for pr in pulls)
    assert not (repository / "out" / "pr_previews").exists()  # real run: no stale previews
    assert github.errors == []
