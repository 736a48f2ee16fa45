"""From raw Sentry exports to PatchTasks: the expected clusters, written by hand from the data."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from selfheal.config import Config, OwnerRule, SeverityConfig, SeverityRule
from selfheal.contracts import contract_errors
from selfheal.dedup import MergeRules, load_rules
from selfheal.errors import InputError
from selfheal.normalize import build_tasks
from selfheal.owners import CodeOwners
from selfheal.pipeline import sample_path
from selfheal.sources.playwright import load_playwright_report
from selfheal.sources.sentry_export import load_sentry_export, parse_sentry_export

FIX = Path(__file__).parent / "fixtures"


def _by_items(tasks: list) -> dict[frozenset[str], object]:
    return {frozenset(o.id for o in t.occurrences): t for t in tasks}


def test_sample_export_clusters_are_the_ones_a_person_would_draw() -> None:
    tasks = build_tasks(load_sentry_export(sample_path("sentry_errors.json")), Config(), min_frequency=2)
    clusters = set(_by_items(tasks))
    assert clusters == {
        frozenset({"5101"}),  # frontend TypeError
        frozenset({"5201", "5202"}),  # KeyError 'sku' split by Sentry across releases and callers
        frozenset({"5301", "5302"}),  # ValueError reached with different user input
        frozenset({"5401"}),  # ZeroDivisionError
        frozenset({"5501"}),  # fatal MemoryError
        frozenset({"5601", "5602"}),  # log message with order ids and timings
        frozenset({"5701"}),  # deprecation warning
        frozenset({"1"}),  # Sentry's documented example issue
    }  # 5801 was seen once: below the minimum frequency of 2
    for task in tasks:
        assert contract_errors(task.to_json()) == []


def test_merged_task_sums_counts_and_keeps_every_occurrence() -> None:
    tasks = _by_items(build_tasks(load_sentry_export(sample_path("sentry_errors.json")), Config()))
    keyerror = tasks[frozenset({"5201", "5202"})]
    assert keyerror.frequency == 90 + 44
    assert keyerror.users == 31 + 12
    assert keyerror.expected_fix.files_hint[0] == "shop/cart.py"  # crash frame first
    assert keyerror.first_seen == "2026-11-10T09:00:00Z"
    assert "unhandled exception → high" in keyerror.severity_reasons


def test_severity_reasons_explain_each_verdict() -> None:
    tasks = _by_items(build_tasks(load_sentry_export(sample_path("sentry_errors.json")), Config()))
    fatal = tasks[frozenset({"5501"})]
    assert (fatal.severity, fatal.severity_reasons[0]) == ("blocker", "level is fatal → blocker")
    warning = tasks[frozenset({"5701"})]
    assert warning.severity == "medium"  # 40 users and 60 events, but only warnings
    assert "warning-level events cap severity at medium" in warning.severity_reasons
    for task in tasks.values():
        assert task.severity_reasons


def test_sentry_and_playwright_showing_one_error_merge_across_sources() -> None:
    failures = load_sentry_export(sample_path("sentry_errors.json"))
    failures += load_playwright_report(sample_path("playwright-report.json"))
    tasks = build_tasks(failures, Config())
    typeerror = next(t for t in tasks if any(o.id == "5101" for o in t.occurrences))
    assert set(typeerror.sources) == {"sentry", "playwright"}
    projects = sorted(o.project or "" for o in typeerror.occurrences if o.source == "playwright")
    assert projects == ["chromium", "chromium-mobile"]
    assert typeerror.expected_fix.files_hint[0] == "js/search.js"


def test_real_production_export_does_clearly_better_than_the_original() -> None:
    """The original labelled every task frontend/dashboard/medium with URL routes as file hints."""
    original = json.loads((FIX / "seed" / "real-patchtasks.json").read_text())
    tasks = build_tasks(
        load_sentry_export(FIX / "seed" / "real-sentry_errors.json"), Config(), min_frequency=2
    )
    assert len(original) == 6
    assert len(tasks) == 6  # same issues pass the frequency filter
    for task in tasks:
        assert task.area == "backend"  # Python issues (platform python)
        assert task.owner != "dashboard"
        assert not any(hint.startswith("/") for hint in task.expected_fix.files_hint)  # no URL routes
        assert task.severity_reasons
        assert contract_errors(task.to_json()) == []
    ratelimit = next(t for t in tasks if t.title.startswith("RateLimitError"))
    assert ratelimit.severity == "high"  # unhandled, 38 events: the original said medium
    circuit = next(t for t in tasks if "Seat architect" in t.title)
    assert circuit.expected_fix.files_hint == ("parliament/engine.py",)  # from the logger
    assert circuit.expected_fix.kind == "guardrail"
    from selfheal.dedup import near_duplicates

    pairs = near_duplicates(tasks)  # default threshold, as in the analyze notebook
    opened = {t.fingerprint for t in tasks if t.title.startswith("Circuit breaker OPENED")}
    assert len(opened) == 2  # kept apart: precision first
    assert {pairs.row(0, named=True)["a"], pairs.row(0, named=True)["b"]} == opened  # offered for a merge


def test_sentry_documented_examples_normalize_into_valid_tasks() -> None:
    issue = json.loads((FIX / "sentry_docs" / "sentry_docs_example_org_issues_list.json").read_text())
    event = json.loads((FIX / "sentry_docs" / "sentry_docs_example_issue_event_detail.json").read_text())
    project_issue = json.loads(
        (FIX / "sentry_docs" / "sentry_docs_example_project_issues_list.json").read_text()
    )
    export = [
        {"issue": issue["response_body"][0], "latestEvent": event["response_body"]},
        {"issue": {**project_issue["response_body"][0], "id": "2"}, "latestEvent": None},
    ]
    failures = parse_sentry_export(export, "docs")
    assert failures[0].exception_type == "ForbiddenError"
    assert failures[0].environment == "prod"  # a tag, not a top-level field
    assert failures[0].count == 150  # "150" as a string in the payload
    tasks = build_tasks(failures, Config())
    assert len(tasks) == 2
    assert all(contract_errors(t.to_json()) == [] for t in tasks)


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ({"issue": {}}, "expected a JSON list"),
        ([{"latestEvent": None}], "item 0 has no 'issue' object"),
        ([{"issue": {"title": "x"}}], "item 0: issue has no 'id'"),
        ([{"issue": {"id": "1"}}], "issue has no 'title'"),
        (["text"], "item 0 is str"),
    ],
)
def test_malformed_exports_name_the_file_and_the_problem(payload: object, problem: str) -> None:
    with pytest.raises(InputError) as info:
        parse_sentry_export(payload, "out/sentry_errors.json")
    assert str(info.value).startswith("out/sentry_errors.json: ")
    assert problem in str(info.value)


def test_rules_file_merges_splits_and_never_merges(tmp_path: Path) -> None:
    failures = load_sentry_export(sample_path("sentry_errors.json"))
    plain = _by_items(build_tasks(failures, Config()))
    fp_value = plain[frozenset({"5301", "5302"})].fingerprint
    fp_zero = plain[frozenset({"5401"})].fingerprint
    fp_fatal = plain[frozenset({"5501"})].fingerprint
    rules_file = tmp_path / "selfheal-rules.toml"
    rules_file.write_text(
        f'[[merge]]\nfingerprints = ["{fp_value}", "{fp_zero}", "{fp_fatal}"]\n'
        f'[[never_merge]]\nfingerprints = ["{fp_value}", "{fp_fatal}"]\n'
        '[[split]]\nitems = ["sentry:5202"]\n'
    )
    tasks = _by_items(build_tasks(failures, Config(), rules=load_rules(rules_file)))
    assert frozenset({"5301", "5302", "5401"}) in tasks  # merged by a person
    assert frozenset({"5501"}) in tasks  # never-merge beats merge
    assert frozenset({"5201"}) in tasks
    assert frozenset({"5202"}) in tasks  # split out of its cluster
    merged = tasks[frozenset({"5301", "5302", "5401"})]
    assert merged.fingerprint == fp_value  # the first fingerprint names the task


def test_bad_rules_file_is_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "rules.toml"
    bad.write_text("[[merge]]\nfingerprints = ['only-one']\n")
    with pytest.raises(InputError, match=r"rules\.toml: merge\[0\]: 'fingerprints' must list at least two"):
        load_rules(bad)
    bad.write_text("[[merge\n")
    with pytest.raises(InputError, match="invalid TOML"):
        load_rules(bad)
    assert load_rules(tmp_path / "missing.toml") == MergeRules()


def test_week_over_week_marks_new_ongoing_regressed_and_resolved() -> None:
    week1 = build_tasks(load_playwright_report(sample_path("playwright-report.json")), Config())
    week2 = build_tasks(
        load_playwright_report(sample_path("playwright-report-week2.json")), Config(), previous=week1
    )
    status = {t.title.split(" — ")[0]: t.status for t in week2}
    assert status["Login › shows an error for a wrong password"] == "resolved"  # fixed in week 2
    assert status["Login › logs in with valid credentials"] == "new"  # regression new in week 2
    assert status["Checkout › with an empty cart › warns before checkout"] == "ongoing"
    regressed_again = build_tasks(
        load_playwright_report(sample_path("playwright-report.json")), Config(), previous=week2
    )
    login = next(t for t in regressed_again if t.title.startswith("Login › shows an error"))
    assert login.status == "regressed"  # resolved last week, failing again


def test_configured_rules_raise_severity_and_assign_owners(tmp_path: Path) -> None:
    config = Config(
        severity=SeverityConfig(
            rules=(SeverityRule(pattern="(?i)payment", severity="blocker", field="title"),)
        ),
        owners=(OwnerRule(pattern="^shop/payments/", owner="payments", area="backend"),),
    )
    tasks = _by_items(build_tasks(load_sentry_export(sample_path("sentry_errors.json")), config))
    payment = tasks[frozenset({"5601", "5602"})]
    assert payment.severity == "blocker"
    assert payment.owner == "payments"
    assert any("matches rule /(?i)payment/" in r for r in payment.severity_reasons)


def test_codeowners_last_match_wins() -> None:
    owners = CodeOwners("* @acme/everyone\n/shop/ @acme/backend\n*.js @acme/web\nshop/cart.py @jane\n")
    assert owners.owners_of("shop/cart.py") == ("@jane",)
    assert owners.owners_of("shop/views.py") == ("@acme/backend",)
    assert owners.owners_of("js/search.js") == ("@acme/web",)
    assert owners.owners_of("README.md") == ("@acme/everyone",)
    tasks = build_tasks(load_sentry_export(sample_path("sentry_errors.json")), Config(), codeowners=owners)
    cart = _by_items(tasks)[frozenset({"5201", "5202"})]
    assert cart.owner == "@jane"


def test_junit_cases_from_two_projects_are_two_occurrences_not_one_twice() -> None:
    from selfheal.sources.junit import parse_junit

    tasks = build_tasks(parse_junit(FIX / "playwright" / "junit.xml"), Config())
    for task in tasks:
        keys = [(o.id, o.project) for o in task.occurrences]
        assert len(keys) == len(set(keys)), task.title
        assert all(contract_errors(t.to_json()) == [] for t in tasks)
    nav = next(t for t in tasks if "main navigation" in t.title)
    assert [o.project for o in nav.occurrences] == ["chromium-mobile"]
    assert nav.severity == "medium"  # fails in one of the two projects only, as in the JSON report


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        # Issue 13: `auto` never means the sample (only `selfheal demo` and an explicit
        # source = "sample" read it); without credentials or an export it pulls nothing.
        ({}, "none"),
        ({"SENTRY_AUTH_TOKEN": "t"}, "none"),
        ({"SENTRY_AUTH_TOKEN": "t", "SENTRY_ORG": "acme"}, "sentry"),
    ],
)
def test_auto_source_never_replaces_real_data_with_the_sample(env: dict[str, str], expected: str) -> None:
    from selfheal.pipeline import resolve_source

    assert resolve_source("auto", env) == expected
    assert resolve_source("bugsink", env) == "bugsink"


def test_test_task_titles_survive_secret_scrubbing_in_pr_titles() -> None:
    """ "…wrong password: expect(…)" would read as a credential; the title separator avoids that."""
    from selfheal.pullrequests.render import pr_title

    tasks = build_tasks(load_playwright_report(sample_path("playwright-report.json")), Config())
    login = next(t for t in tasks if t.title.startswith("Login › shows an error for a wrong password"))
    assert "wrong password — expect(locator).toHaveText(expected) failed" in pr_title(login)
    assert "REDACTED" not in pr_title(login)


def test_near_duplicates_scores_lookalikes_and_skips_unrelated_pairs() -> None:
    from selfheal.dedup import near_duplicates

    failures = load_sentry_export(sample_path("sentry_errors.json"))
    tasks = build_tasks(failures, Config(), rules=MergeRules(split=frozenset({"sentry:5202"})))
    pairs = near_duplicates(tasks, threshold=0.5)
    keyerrors = {t.fingerprint for t in tasks if t.exception_type == "KeyError"}
    assert len(keyerrors) == 2
    top = pairs.row(0, named=True)
    assert {top["a"], top["b"]} == keyerrors  # the split-out KeyError is the obvious candidate
    assert top["score"] >= 0.85
    assert top["suggestion"].startswith("likely the same bug")
    assert pairs.filter(pl.col("same_type") == False).height == 0  # noqa: E712 - polars expression


def test_pr_input_merges_every_patchtasks_file_without_double_counting(tmp_path: Path) -> None:
    from selfheal.pipeline import load_all_tasks, normalize

    sentry, playwright = sample_path("sentry_errors.json"), sample_path("playwright-report.json")
    normalize(tmp_path, playwright=playwright)  # out/playwright_patchtasks.json
    normalize(tmp_path, sentry=sentry, playwright=playwright)  # merged out/patchtasks.json
    tasks = load_all_tasks(tmp_path)
    assert len({t.fingerprint for t in tasks}) == len(tasks)
    typeerror = next(t for t in tasks if any(o.id == "5101" for o in t.occurrences))
    assert len(typeerror.occurrences) == 3  # the Sentry issue and the test in two projects, once each
    assert typeerror.frequency == 240 + 4  # not 240 + 4 + 4
    with pytest.raises(InputError, match=r"no \*patchtasks\.json here"):
        load_all_tasks(tmp_path / "empty")


def test_merging_files_keeps_the_most_telling_status() -> None:
    from selfheal.normalize import merge_tasks

    task = build_tasks(load_sentry_export(sample_path("sentry_errors.json")), Config())[0]
    cases = [
        (("new", "regressed"), "regressed"),
        (("resolved", "new"), "new"),  # present in this run's other file: not resolved
        (("ongoing", "new"), "ongoing"),
        (("resolved", "resolved"), "resolved"),
    ]
    for statuses, expected in cases:
        merged = merge_tasks([task.with_changes(status=s) for s in statuses])
        assert [t.status for t in merged] == [expected], statuses


def test_different_tests_failing_with_one_matcher_are_not_called_the_same_bug() -> None:
    from selfheal.dedup import near_duplicates

    tasks = build_tasks(load_playwright_report(sample_path("playwright-report-week2.json")), Config())
    pairs = near_duplicates(tasks, threshold=0.0)
    assert pairs.height > 0
    assert pairs.filter(pl.col("score") >= 0.85).height == 0
