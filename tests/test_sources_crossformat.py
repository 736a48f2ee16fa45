"""One run uploaded twice, as Playwright JSON and as its JUnit output: each failing test once.

The three paired runs in tests/fixtures/playwright/ are real Playwright output of one project
(report.json + junit.xml, report-run2.json + junit-run2.xml, and a run whose spec failed to
load). The identity of a test is the same in both formats: spec file, title path, project.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from selfheal.cli import main
from selfheal.config import Config
from selfheal.pipeline import read_failures
from selfheal.records import Failure
from selfheal.sources.junit import parse_junit, parse_junit_text
from selfheal.sources.playwright import CaseIdentity, load_playwright_run, without_tests_described_by

PLAYWRIGHT = Path(__file__).parent / "fixtures" / "playwright"
RUNS = [
    ("report.json", "junit.xml"),
    ("report-run2.json", "junit-run2.xml"),
    ("report-load-error.json", "junit-load-error.xml"),
]


def _identity(f: Failure) -> tuple[str, tuple[str, ...], str]:
    return (f.file, f.test_path, f.project or "")


@pytest.mark.parametrize(("report", "junit"), RUNS)
def test_both_formats_of_one_run_give_each_failing_test_once(report: str, junit: str) -> None:
    both = read_failures(playwright=PLAYWRIGHT / report, junit=PLAYWRIGHT / junit, config=Config())
    json_only = read_failures(playwright=PLAYWRIGHT / report, config=Config())
    assert Counter(_identity(f) for f in both).most_common(1)[0][1] == 1
    assert [f.key for f in both] == [f.key for f in json_only]  # the JSON wins, JUnit adds nothing twice


@pytest.mark.parametrize(("report", "junit"), RUNS[:2])
def test_every_junit_failure_of_the_run_is_a_test_the_json_describes(report: str, junit: str) -> None:
    run = load_playwright_run(PLAYWRIGHT / report)
    junit_failures = parse_junit(PLAYWRIGHT / junit)
    assert junit_failures  # the run has failures in both formats
    assert without_tests_described_by(junit_failures, run) == []
    for failure in junit_failures:
        assert any(CaseIdentity.of(failure).same_test(test) for test in run.tests)


def test_junit_of_another_suite_is_kept_beside_the_json() -> None:
    other = parse_junit(Path(__file__).parent / "fixtures" / "runners" / "pytest-long.xml")
    run = load_playwright_run(PLAYWRIGHT / "report.json")
    assert without_tests_described_by(other, run) == other


def test_a_junit_result_the_json_lacks_is_kept() -> None:
    xml = (
        (PLAYWRIGHT / "junit.xml")
        .read_text(encoding="utf-8")
        .replace("Login › shows an error for a wrong password", "Login › a test the JSON never ran")
    )
    run = load_playwright_run(PLAYWRIGHT / "report.json")
    kept = without_tests_described_by(parse_junit_text(xml, "junit.xml"), run)
    assert {f.test_path for f in kept} == {("Login", "a test the JSON never ran")}
    assert {f.project for f in kept} == {"chromium", "chromium-mobile"}


def test_normalize_with_both_formats_writes_one_task_per_failing_test(tmp_path: Path) -> None:
    args = ["normalize", "--playwright", str(PLAYWRIGHT / "report.json"), "--out", str(tmp_path)]
    assert main([*args, "--output", str(tmp_path / "json.json")]) == 0
    assert (
        main([*args, "--junit", str(PLAYWRIGHT / "junit.xml"), "--output", str(tmp_path / "both.json")]) == 0
    )
    alone = json.loads((tmp_path / "json.json").read_text())
    both = json.loads((tmp_path / "both.json").read_text())
    assert [t["fingerprint"] for t in both] == [t["fingerprint"] for t in alone]
    occurrences = [(o["source"], o["id"], o.get("project")) for t in both for o in t["occurrences"]]
    assert all(source == "playwright" for source, _, _ in occurrences)
    assert len(occurrences) == len(set(occurrences))


def test_junit_with_the_project_in_test_names_is_still_the_same_test() -> None:
    # Playwright's includeProjectInTestName option writes "[project] Describe › title".
    lines, project = [], ""
    for line in (PLAYWRIGHT / "junit.xml").read_text(encoding="utf-8").splitlines():
        if found := re.search(r'<testsuite [^>]*hostname="([^"]+)"', line):
            project = found.group(1)
        lines.append(line.replace('<testcase name="', f'<testcase name="[{project}] '))
    failures = parse_junit_text("\n".join(lines), "junit.xml")
    assert failures
    assert all(not f.test_path[0].startswith("[") for f in failures)
    run = load_playwright_run(PLAYWRIGHT / "report.json")
    assert without_tests_described_by(failures, run) == []


def test_the_spec_named_relative_to_the_test_dir_matches_even_when_folders_differ() -> None:
    # The JUnit file was written on another machine whose paths put the specs under e2e/:
    # its repository paths differ from the JSON's, the testDir-relative classname does not.
    xml = (
        (PLAYWRIGHT / "junit.xml").read_text(encoding="utf-8").replace("/srv/webapp/tests/", "/ci/build/e2e/")
    )
    junit = parse_junit_text(xml, "junit.xml")
    assert {f.file.split("/", 1)[0] for f in junit} == {"e2e"}
    assert without_tests_described_by(junit, load_playwright_run(PLAYWRIGHT / "report.json")) == []
