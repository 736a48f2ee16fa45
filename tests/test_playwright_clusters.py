"""The real Playwright runs cluster into the right PatchTasks.

The expected clusters were written down by hand from reading the reports
(tests/fixtures/playwright/, facts/playwright-report.md): one task per real bug, the same
failure in both projects is one task, the two SKU tests that differ only by an id are one
task, a flaky test is one task marked flaky, and no two different bugs merge.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from selfheal.config import Config, load_config
from selfheal.models import PatchTask
from selfheal.normalize import build_tasks
from selfheal.records import Failure
from selfheal.sources.junit import parse_junit
from selfheal.sources.playwright import load_playwright_report

FIXTURES = Path(__file__).parent / "fixtures" / "playwright"
D, M = "chromium", "chromium-mobile"

# Each cluster: the (test title, project) entries it holds; flaky clusters are marked.
RUN1_CLUSTERS = {
    frozenset({("Login › shows an error for a wrong password", D),
               ("Login › shows an error for a wrong password", M)}),
    frozenset({("Cart › shows the correct total for two items", D),
               ("Cart › shows the correct total for two items", M)}),
    frozenset({("Cart › applies a discount code", D)}),  # flaky, chromium only
    frozenset({("Cart › removes SKU-1042 from the cart", D), ("Cart › removes SKU-1042 from the cart", M),
               ("Cart › removes SKU-2077 from the cart", D), ("Cart › removes SKU-2077 from the cart", M)}),
    frozenset({("Checkout › with an empty cart › warns before checkout", D),
               ("Checkout › with an empty cart › warns before checkout", M)}),
    frozenset({("Search › shows suggestions while typing", D),
               ("Search › shows suggestions while typing", M)}),
    frozenset({("Search › loads more results", D), ("Search › loads more results", M)}),
    frozenset({("Site header › shows the main navigation links", M)}),  # mobile only
}  # fmt: skip

RUN2_CLUSTERS = {
    frozenset({("Login › logs in with valid credentials", D), ("Login › logs in with valid credentials", M)}),
    frozenset({("Cart › applies a discount code", D)}),  # still flaky
    frozenset({("Checkout › places an order", D), ("Checkout › places an order", M)}),
    frozenset({("Checkout › with an empty cart › warns before checkout", D),
               ("Checkout › with an empty cart › warns before checkout", M)}),
    frozenset({("Search › shows an empty state for unknown terms", D),
               ("Search › shows an empty state for unknown terms", M)}),
    # test.fail() whose bug got fixed: "Expected to fail, but passed."
    frozenset({("Search › sorts results by price", D), ("Search › sorts results by price", M)}),
    frozenset({("Search › loads more results", D), ("Search › loads more results", M)}),
    frozenset({("Site header › shows the main navigation links", M)}),
}  # fmt: skip

#: Bugs present in both weeks: their fingerprints must not change between runs.
PERSISTENT = {
    "Cart › applies a discount code",
    "Checkout › with an empty cart › warns before checkout",
    "Search › loads more results",
    "Site header › shows the main navigation links",
}


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    return load_config(tmp_path_factory.mktemp("repo"))


def clusters(failures: list[Failure], tasks: list[PatchTask]) -> set[frozenset[tuple[str, str | None]]]:
    """Each task's occurrences, spelled as (title, project) through the failures they came from."""
    title_of = {(f.item_id, f.project): f.title for f in failures}
    return {frozenset((title_of[(o.id, o.project)], o.project) for o in t.occurrences) for t in tasks}


def fingerprint_by_title(failures: list[Failure], tasks: list[PatchTask]) -> dict[str, str]:
    title_of = {(f.item_id, f.project): f.title for f in failures}
    return {title_of[(o.id, o.project)]: t.fingerprint for t in tasks for o in t.occurrences}


@pytest.mark.parametrize(
    ("report", "expected"), [("report.json", RUN1_CLUSTERS), ("report-run2.json", RUN2_CLUSTERS)]
)
def test_each_run_clusters_into_one_task_per_real_bug(
    report: str, expected: set[frozenset[tuple[str, str | None]]], config: Config
) -> None:
    failures = load_playwright_report(FIXTURES / report)
    tasks = build_tasks(failures, config)
    assert len(tasks) == 8
    assert clusters(failures, tasks) == expected


@pytest.mark.parametrize("report", ["report.json", "report-run2.json"])
def test_only_the_discount_test_is_flaky(report: str, config: Config) -> None:
    failures = load_playwright_report(FIXTURES / report)
    flaky = [t for t in build_tasks(failures, config) if t.flaky]
    assert clusters(failures, flaky) == {frozenset({("Cart › applies a discount code", D)})}


def test_bugs_present_in_both_weeks_keep_their_fingerprint(config: Config) -> None:
    week1 = load_playwright_report(FIXTURES / "report.json")
    week2 = load_playwright_report(FIXTURES / "report-run2.json")
    first = fingerprint_by_title(week1, build_tasks(week1, config))
    second = fingerprint_by_title(week2, build_tasks(week2, config))
    assert {title for title in first if title in second} == PERSISTENT
    assert {title: first[title] for title in PERSISTENT} == {title: second[title] for title in PERSISTENT}


def test_file_that_failed_to_load_is_one_task(config: Config) -> None:
    failures = load_playwright_report(FIXTURES / "report-load-error.json")
    [task] = build_tasks(failures, config)
    assert task.title.startswith("Failed to load tests/wishlist.spec.ts")
    assert "tests/wishlist.spec.ts" in task.expected_fix.files_hint


@pytest.mark.parametrize(
    ("json_report", "junit_report"), [("report.json", "junit.xml"), ("report-run2.json", "junit-run2.xml")]
)
def test_junit_of_the_same_run_gives_the_same_clusters_without_the_flaky_one(
    json_report: str, junit_report: str, config: Config
) -> None:
    """JUnit shows the flaky test as a pass: 7 tasks, each with the JSON task's fingerprint."""
    from_json = load_playwright_report(FIXTURES / json_report)
    from_junit = parse_junit(FIXTURES / junit_report)
    json_tasks = build_tasks(from_json, config)
    junit_tasks = build_tasks(from_junit, config)
    assert len(junit_tasks) == 7
    expected = {t.fingerprint for t in json_tasks if not t.flaky}
    assert {t.fingerprint for t in junit_tasks} == expected
