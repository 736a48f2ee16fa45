"""Issue 13: a team's own data only. In a foreign repository with no SENTRY_* in the
environment, `selfheal run` reads the team's export and Playwright report, never the bundled
sample, never overwrites the export, and every report says which data it shows (the team's own
weekly runs, from a sub-folder too, are in test_team_weeks.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CliRunner
from team_repo import clean_env, foreign_repo

from selfheal.errors import ConfigError
from selfheal.pipeline import pull, resolve_source


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
