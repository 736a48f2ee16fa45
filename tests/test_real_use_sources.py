"""Issue 13: a team's own data only. In a foreign repository with no SENTRY_* in the
environment, `selfheal run` reads the team's export and Playwright report, never the bundled
sample, never overwrites the export, and every report says which data it shows."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CliRunner

from selfheal.config import Config
from selfheal.errors import ConfigError
from selfheal.normalize import build_tasks
from selfheal.pipeline import pull, resolve_source, sample_path
from selfheal.sources.playwright import load_playwright_report
from selfheal.sources.sentry_export import load_sentry_export

FIXTURES = Path(__file__).parent / "fixtures"
EXPORT = FIXTURES / "real_use" / "sentry_errors.json"
PLAYWRIGHT = FIXTURES / "real_use" / "playwright-report.json"
SAMPLE_ENV = ("SENTRY", "BUGSINK", "GITHUB", "SELFHEAL")


def clean_env() -> dict[str, str]:
    """The environment of a user without any selfheal or service settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith(SAMPLE_ENV)}


def foreign_repo(tmp_path: Path, *, export: bool = True, playwright: bool = True) -> Path:
    repo = tmp_path / "acme"
    (repo / "src").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "pyproject.toml").write_text('[project]\nname = "acme"\nversion = "1.0"\n', encoding="utf-8")
    if export:
        (repo / "out").mkdir()
        shutil.copy(EXPORT, repo / "out" / "sentry_errors.json")
    if playwright:
        (repo / "playwright-report").mkdir()
        shutil.copy(PLAYWRIGHT, repo / "playwright-report" / "report.json")
    return repo


def selfheal(repo: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """A real `python -m selfheal` process: the smoke test of `demo`; `run` is called in-process."""
    return subprocess.run(
        [sys.executable, "-m", "selfheal", *args],
        cwd=cwd or repo,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def sample_titles() -> set[str]:
    failures = load_sentry_export(sample_path("sentry_errors.json"))
    failures += load_playwright_report(sample_path("playwright-report.json"))
    failures += load_playwright_report(sample_path("playwright-report-week2.json"))
    return {t.title for t in build_tasks(failures, Config(), min_frequency=0)}


def test_auto_reuses_an_export_that_is_there_and_never_means_the_sample(tmp_path: Path) -> None:
    repo = foreign_repo(tmp_path)
    env = clean_env()
    assert resolve_source("auto", env, out_dir=repo / "out") == "file"
    assert resolve_source("auto", env, out_dir=tmp_path / "empty") == "none"
    before = (repo / "out" / "sentry_errors.json").read_bytes()
    assert pull("auto", repo / "out", environ=env) is None
    assert (repo / "out" / "sentry_errors.json").read_bytes() == before


def test_the_sample_never_replaces_a_real_export(tmp_path: Path) -> None:
    repo = foreign_repo(tmp_path)
    before = (repo / "out" / "sentry_errors.json").read_bytes()
    with pytest.raises(ConfigError, match="holds real data"):
        pull("sample", repo / "out", progress=False)
    assert (repo / "out" / "sentry_errors.json").read_bytes() == before


@pytest.mark.slow
def test_selfheal_run_in_a_foreign_repository_reports_only_the_teams_data(
    tmp_path: Path, run_cli: CliRunner
) -> None:
    repo = foreign_repo(tmp_path)
    export_before = (repo / "out" / "sentry_errors.json").read_bytes()

    result = run_cli("run", "--run-id", "week1", cwd=repo, env=clean_env())
    assert result.returncode == 0, result.stderr

    assert (repo / "out" / "sentry_errors.json").read_bytes() == export_before  # not overwritten
    tasks = json.loads((repo / "out" / "patchtasks.json").read_text(encoding="utf-8"))
    titles = {t["title"] for t in tasks}
    assert titles, "the team's data became tasks"
    assert not titles & sample_titles(), "no bundled sample task among the team's tasks"
    ids = {o["id"] for t in tasks for o in t.get("occurrences", []) if o["source"] == "sentry"}
    assert ids <= {"9001", "9002", "9003"}
    assert "playwright" in {s for t in tasks for s in t.get("sources", [t["source"]])}

    plan = json.loads((repo / "out" / "pr_plan.json").read_text(encoding="utf-8"))
    assert not [d["title"] for d in plan["decisions"] if any(s in d["title"] for s in sample_titles())]
    assert all(d["taskId"] in {t["id"] for t in tasks} for d in plan["decisions"])

    # Every page and the index say which data: the file export and the Playwright report.
    for page in sorted((repo / "reports" / "week1").glob("*.html")):
        text = page.read_text(encoding="utf-8")
        assert "sentry: file (out/sentry_errors.json" in text, page.name
        assert "playwright: file (playwright-report/report.json" in text, page.name
        assert "SAMPLE" not in text, page.name
    index = (repo / "reports" / "index.html").read_text(encoding="utf-8")
    assert "sentry: file (out/sentry_errors.json" in index
    assert str(tmp_path) not in index, "paths in the index are relative to the project"
    assert not (repo / "notebooks").exists()


@pytest.mark.slow
def test_selfheal_run_without_any_data_names_what_to_set(tmp_path: Path, run_cli: CliRunner) -> None:
    repo = foreign_repo(tmp_path, export=False, playwright=False)
    result = run_cli("run", "--run-id", "empty", cwd=repo, env=clean_env())
    assert result.returncode == 4
    assert "SENTRY_AUTH_TOKEN" in result.stderr
    assert "playwright-report/report.json" in result.stderr
    assert not (repo / "out" / "sentry_errors.json").exists(), "no sample pulled in its place"
    index = (repo / "reports" / "index.html").read_text(encoding="utf-8")
    assert "0 open tasks · 0 events" not in index
    assert "no numbers" in index


@pytest.mark.slow
def test_demo_says_sample_on_every_page(tmp_path: Path) -> None:
    repo = foreign_repo(tmp_path, export=False, playwright=False)
    result = selfheal(repo, "demo")
    assert result.returncode == 0, result.stderr
    pages = sorted((repo / "reports").glob("*/*.html"))
    assert pages
    for page in pages:
        assert "sentry: SAMPLE data" in page.read_text(encoding="utf-8"), page.name


def test_the_project_root_is_found_from_any_sub_folder_or_the_environment(tmp_path: Path) -> None:
    from selfheal.project import PROJECT_ROOT_ENV, in_project, project_root, relative_to_project

    repo = foreign_repo(tmp_path, export=False, playwright=False)
    notebooks = repo / "notebooks"
    notebooks.mkdir()
    env = clean_env()
    assert project_root(notebooks, env) == repo.resolve()
    assert project_root(repo / "src", env) == repo.resolve()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert project_root(notebooks, {**env, PROJECT_ROOT_ENV: str(elsewhere)}) == elsewhere.resolve()
    assert in_project("/abs/out", env) == Path("/abs/out")
    assert relative_to_project("out/x.json", env) == "out/x.json"


@pytest.mark.slow
def test_selfheal_run_from_a_sub_folder_writes_the_projects_out_and_reports(
    tmp_path: Path, run_cli: CliRunner
) -> None:
    repo = foreign_repo(tmp_path)
    result = run_cli("run", "--run-id", "from-src", cwd=repo / "src", env=clean_env())
    assert result.returncode == 0, result.stderr
    assert (repo / "out" / "patchtasks.json").is_file()
    assert (repo / "reports" / "from-src" / "03-analyze.html").is_file()
    assert list((repo / "src").iterdir()) == []
