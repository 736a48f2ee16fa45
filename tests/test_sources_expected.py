"""Every runner family and Sentry platform of the hand-written collection gives the title line,
file hints and area written down by hand in tests/fixtures/expected_sources.toml.

The fixtures reproduce real formats (see tests/fixtures/runners/README.md and
tests/fixtures/sentry_platforms/README.md for where each was observed); the expected values
were written from reading the fixtures, not from the parser's output.
"""

from __future__ import annotations

import runpy
import tomllib
from pathlib import Path
from typing import Any

import pytest

from selfheal.config import Config
from selfheal.models import AREAS, severity_rank
from selfheal.normalize import build_tasks
from selfheal.paths import is_plausible_file_path
from selfheal.records import Failure
from selfheal.sources.junit import parse_junit
from selfheal.sources.sentry_export import load_sentry_export

FIXTURES = Path(__file__).parent / "fixtures"
EXPECTED = tomllib.loads((FIXTURES / "expected_sources.toml").read_text(encoding="utf-8"))
JUNIT_CASES = EXPECTED["junit"]
SENTRY_CASES = EXPECTED["sentry"]


def _case_id(case: dict[str, Any]) -> str:
    return f"{case.get('runner') or case.get('platform')}:{case['fixture']}:{case.get('title', '')[:40]}"


def _junit_failure(case: dict[str, Any]) -> Failure:
    failures = parse_junit(FIXTURES / "runners" / case["fixture"])
    matching = [f for f in failures if f.title == case["title"]]
    assert len(matching) == 1, f"titles found: {[f.title for f in failures]}"
    return matching[0]


def _hints(failure: Failure) -> tuple[str, ...]:
    (task,) = build_tasks([failure], Config())
    return task.expected_fix.files_hint


@pytest.mark.parametrize("case", JUNIT_CASES, ids=_case_id)
def test_junit_title_is_the_runners_error_line(case: dict[str, Any]) -> None:
    failure = _junit_failure(case)
    assert (failure.message.splitlines() or [""])[0] == case["error_line"]
    assert failure.exception_type == case["type"]


@pytest.mark.parametrize("case", JUNIT_CASES, ids=_case_id)
def test_junit_hints_name_the_test_file_and_only_files(case: dict[str, Any]) -> None:
    failure = _junit_failure(case)
    hints = _hints(failure)
    assert failure.file == case["file"]
    assert case["file"] in hints or not case["file"]
    assert (hints[0] if hints else "") == case["first_hint"]
    assert all(is_plausible_file_path(h) for h in hints), hints
    for absent in case.get("hints_absent", []):
        assert absent not in hints


@pytest.mark.parametrize("case", SENTRY_CASES, ids=_case_id)
def test_sentry_first_hint_and_area_follow_the_event(case: dict[str, Any]) -> None:
    failures = load_sentry_export(FIXTURES / "sentry_platforms" / case["fixture"])
    index = [c for c in SENTRY_CASES if c["fixture"] == case["fixture"]].index(case)
    (task,) = build_tasks([failures[index]], Config())
    hints = task.expected_fix.files_hint
    assert (hints[0] if hints else "") == case["first_hint"]
    assert all(is_plausible_file_path(h) for h in hints), hints
    assert task.area == case["area"]
    assert task.area in AREAS
    if "max_severity" in case:
        assert severity_rank(task.severity) >= severity_rank(case["max_severity"])


def test_the_collection_covers_every_runner_family_and_platform_of_the_issue() -> None:
    runners = {c["runner"] for c in JUNIT_CASES}
    assert runners >= {"pytest", "unittest", "jest", "vitest", "playwright", "surefire", "gradle", "go",
                       "catch2", "googletest", "phpunit", "dotnet", "dart", "mocha"}  # fmt: skip
    platforms = {c["platform"].split(" (")[0] for c in SENTRY_CASES}
    assert platforms >= {"python", "javascript", "node", "java", "android", "cocoa", "react-native", "unity",
                         "aspnetcore", "ruby", "php", "go", "elixir", "rust", "cordova", "CSP report",
                         "cloudflare worker"}  # fmt: skip


@pytest.mark.slow  # the whole collection through every parser and measure
def test_the_six_measures_of_the_issue_meet_their_goals_on_the_collection() -> None:
    bench = runpy.run_path(str(Path(__file__).parent.parent / "bench" / "sources.py"), run_name="bench")
    assert bench["main"]() == 0
