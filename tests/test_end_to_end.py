"""The whole pipeline through the real command line: fake Sentry → pull → normalize → papermill
run → dry-run PRs (no writes) → real draft PRs on the fake GitHub. Real httpx, real PyGithub,
real sockets on 127.0.0.1; secrets only in the environment, and never in any output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from selfheal.contracts import contract_errors
from selfheal.pipeline import sample_path
from selfheal.testing.fake_github import FakeGitHub
from selfheal.testing.fake_sentry import FakeSentry

ROOT = Path(__file__).resolve().parents[1]
SENTRY_TOKEN = "sntrys_e2eSentryTokenValue0123456789abcdefXYZ"
GITHUB_TOKEN = "ghp_e2eGithubTokenValue0123456789abcdefABCD"


def _selfheal(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "selfheal", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    for secret in (SENTRY_TOKEN, GITHUB_TOKEN):
        assert secret not in result.stdout + result.stderr
    return result


@pytest.mark.slow
def test_pull_normalize_run_and_open_draft_prs_end_to_end(tmp_path: Path) -> None:
    with (
        FakeSentry.from_export(sample_path("sentry_errors.json"), token=SENTRY_TOKEN) as sentry,
        FakeGitHub(token=GITHUB_TOKEN) as github,
    ):
        github.add_repo("acme", "shop", default_branch="trunk")
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SENTRY_", "GITHUB_", "BUGSINK_"))},
            "SENTRY_AUTH_TOKEN": SENTRY_TOKEN,
            "SENTRY_ORG": sentry.org,
            "SENTRY_BASE_URL": sentry.base_url,
            "GITHUB_TOKEN": GITHUB_TOKEN,
            "GITHUB_OWNER": "acme",
            "GITHUB_REPO": "shop",
            "GITHUB_API_URL": github.base_url,
        }

        pulled = _selfheal(tmp_path, env, "pull", "sentry", "--limit", "0", "--no-progress")
        assert pulled.returncode == 0, pulled.stderr
        export = json.loads((tmp_path / "out" / "sentry_errors.json").read_text())
        assert [item["issue"]["id"] for item in export] == sentry.issue_ids()
        assert all(set(item) == {"issue", "latestEvent"} for item in export)

        normalized = _selfheal(tmp_path, env, "normalize", "sentry")
        assert normalized.returncode == 0, normalized.stderr
        tasks = json.loads((tmp_path / "out" / "patchtasks.json").read_text())
        assert tasks
        assert all(contract_errors(t) == [] for t in tasks)

        params = tmp_path / "params.json"
        params.write_text(json.dumps({"source": "sentry", "limit": 0}))
        ran = _selfheal(
            tmp_path,
            env,
            "run",
            "--params",
            str(params),
            "--notebooks",
            str(ROOT / "notebooks"),
            "--run-id",
            "e2e",
        )
        assert ran.returncode == 0, ran.stderr
        run_dir = tmp_path / "reports" / "e2e"
        assert sorted(p.name for p in run_dir.glob("*.html")) == [
            "01-pull.html",
            "02-normalize.html",
            "03-analyze.html",
            "04-pull-requests.html",
        ]
        assert (tmp_path / "reports" / "index.html").is_file()

        github.clear_requests()
        dry = _selfheal(tmp_path, env, "pr", "--dry-run")
        assert dry.returncode == 0, dry.stderr
        assert github.writes == []  # a dry run changes nothing remote
        plan = json.loads((tmp_path / "out" / "pr_plan.json").read_text())
        planned = [d for d in plan["decisions"] if d["action"] == "create"]
        assert 0 < len(planned) <= 5
        assert len(list((tmp_path / "out" / "pr_previews").glob("*.md"))) == len(planned)

        opened = _selfheal(tmp_path, env, "pr", "--max-new", "2")
        assert opened.returncode == 0, opened.stderr
        repo = github.repo("acme/shop")
        pulls = repo.pulls()
        assert len(pulls) == 2
        for pr in pulls:
            assert pr.draft
            assert pr.base == "trunk"  # the repository's default branch, not a hard-coded main
            assert "selfheal" in pr.labels
            assert any(label.startswith("severity:") for label in pr.labels)
            assert any(label.startswith("source:") for label in pr.labels)
            files = repo.files(pr.head)
            task_files = [p for p in files if p.startswith(".selfheal/tasks/")]
            assert len(task_files) == 1  # the commit that makes the branch a real PR
            fingerprint = Path(task_files[0]).stem
            assert f"<!-- selfheal:fingerprint={fingerprint} -->" in (pr.body or "")

        everything = [p for p in tmp_path.rglob("*") if p.is_file()]
        for path in everything:
            text = path.read_bytes()
            assert SENTRY_TOKEN.encode() not in text, path
            assert GITHUB_TOKEN.encode() not in text, path
