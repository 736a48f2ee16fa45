"""A team's repository for the real-use tests (issue 13): its own Sentry export and Playwright
report, no service settings in the environment; and the dashboard's trend bars read back."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from selfheal.config import Config
from selfheal.normalize import build_tasks
from selfheal.pipeline import sample_path
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


def sample_titles() -> set[str]:
    failures = load_sentry_export(sample_path("sentry_errors.json"))
    failures += load_playwright_report(sample_path("playwright-report.json"))
    failures += load_playwright_report(sample_path("playwright-report-week2.json"))
    return {t.title for t in build_tasks(failures, Config(), min_frequency=0)}


def bars_of(page: str, chart_title: str) -> list[str]:
    """The tooltips of one trend chart's bars ("<run>: <n> <series>")."""
    svg = re.search(rf'<svg class="trend"[^>]*aria-label="{re.escape(chart_title)}".*?</svg>', page, re.S)
    assert svg is not None, chart_title
    return re.findall(r"<rect class=\"bar\"[^>]*><title>([^<]+)</title>", svg.group(0))
