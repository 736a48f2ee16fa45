"""Near-duplicate candidates a person can decide on, and rules that no longer match anything."""

from __future__ import annotations

import tomllib
from pathlib import Path

import polars as pl
from triage_builders import PyFrame, Spec, playwright_failures, sentry_failures, sentry_issue

from selfheal.config import Config
from selfheal.dedup import (
    BUCKET_WINDOW,
    MergeRules,
    describe_candidates,
    diff_excerpts,
    load_rules,
    near_duplicates,
    rule_warnings,
)
from selfheal.normalize import build_tasks
from selfheal.pipeline import normalize, sample_path

LOOKUP = PyFrame("billing.discounts", "lookup_code", 41)
LOAD = PyFrame("orders.store", "load_order", 12)


def _ambiguous_tasks() -> list:
    """A test showing a KeyError that two Sentry issues raise alike: left apart, offered twice."""
    failures = sentry_failures(
        sentry_issue("1", "KeyError", "'ACME-7'", [LOOKUP]),
        sentry_issue("2", "KeyError", "'ORD-1'", [LOAD]),
    )
    ui = (
        "Error: expect(locator).toHaveText(expected) failed\n\n"
        "Received: \"Internal error: KeyError: 'ZED-9'\""
    )
    tests = playwright_failures([Spec("checkout.spec.ts", ("Checkout", "applies a code"), ui)])
    return build_tasks(failures + tests, Config())


def test_a_test_showing_an_error_is_offered_with_each_issue_across_types_and_sources() -> None:
    tasks = _ambiguous_tasks()
    assert len(tasks) == 3  # not merged: the text fits two issues equally
    test_task = next(t for t in tasks if t.source == "playwright")
    pairs = near_duplicates(tasks)
    with_test = pairs.filter((pl.col("a") == test_task.fingerprint) | (pl.col("b") == test_task.fingerprint))
    assert with_test.height == 2  # an "Error" test and a "KeyError" issue: compared anyway
    for row in with_test.iter_rows(named=True):
        assert "shows the error KeyError: 'ZED-9'" in row["why"]
        assert row["score"] >= 0.85
        messages = {row["message_a"], row["message_b"]}
        assert any(m.startswith("KeyError: ") for m in messages)  # both messages, side by side
        assert any("Internal error: KeyError: 'ZED-9'" in m for m in messages)
        assert any("billing/discounts.py:41 in lookup_code" in f or "orders/store.py:12 in load_order" in f
                   for f in (row["frames_a"], row["frames_b"]))  # fmt: skip


def test_every_candidate_carries_a_merge_rule_that_pastes_into_the_rules_file(tmp_path: Path) -> None:
    tasks = _ambiguous_tasks()
    pairs = near_duplicates(tasks, threshold=0.0)
    assert pairs.height > 0
    rules_file = tmp_path / "selfheal-rules.toml"
    rules_file.write_text("\n".join(pairs["rule"].to_list()))
    rules = load_rules(rules_file)
    assert [set(g) for g in rules.merge] == [{a, b} for a, b in zip(pairs["a"], pairs["b"], strict=True)]
    assert all(note for note in rules.merge_notes)
    text = describe_candidates(pairs, limit=pairs.height)
    assert text.splitlines().count("[[merge]]") == pairs.height
    assert len(tomllib.loads(text)["merge"]) == pairs.height  # the whole text pastes as it is


def test_excerpts_of_two_long_messages_show_where_they_differ() -> None:
    shared = "Timeout 5000ms exceeded while waiting for locator('#checkout') to be visible and stable; "
    a, b = diff_excerpts(shared + "order 1001 pending", shared + "cart empty", width=60)
    assert a.endswith("order 1001 pending")
    assert b.endswith("cart empty")
    assert a.startswith("…")
    assert len(a) <= 60
    assert diff_excerpts("short a", "short b") == ("short a", "short b")


def test_candidate_search_compares_each_task_with_a_bounded_number_of_neighbours() -> None:
    """300 ValueErrors in one bucket: at most n·w pairs scored per bucket kind, not n²/2."""
    count = 300
    issues = [
        sentry_issue(
            str(n),
            "ValueError",
            f"bad value in field f{n} of form {n % 7}",
            [PyFrame(f"m{n}.forms", "clean")],
        )
        for n in range(count)
    ]
    tasks = build_tasks(sentry_failures(*issues), Config())
    assert len(tasks) == count
    pairs = near_duplicates(tasks, threshold=0.0, limit=10**6)
    buckets_per_task = 3  # exception type, first file, crash function
    assert 0 < pairs.height <= count * BUCKET_WINDOW * buckets_per_task
    assert pairs.height < count * (count - 1) // 2


def test_rules_naming_no_task_are_reported_and_merged_members_count_as_known() -> None:
    failures = sentry_failures(
        sentry_issue("1", "KeyError", "'ACME-7'", [LOOKUP]),
        sentry_issue("2", "ValueError", "bad code", [LOOKUP]),
        sentry_issue("3", "ZeroDivisionError", "division by zero", [LOAD]),
    )
    plain = build_tasks(failures, Config())
    key_fp, value_fp = plain[0].fingerprint, plain[1].fingerprint
    rules = MergeRules(
        merge=((key_fp, value_fp), ("0123456789abcdef", key_fp)),
        never_merge=(frozenset({"fedcba9876543210", key_fp}),),
        split=frozenset({"sentry:1", "sentry:999"}),
    )
    tasks = build_tasks(failures, Config(), rules=rules)
    warnings = rule_warnings(rules, tasks)
    assert warnings == [
        "rules: merge[1] names 0123456789abcdef, which matches no task",
        "rules: never_merge[0] names fedcba9876543210, which matches no task",
        "rules: split names sentry:999, which matches no raw item",
    ]
    assert rule_warnings(MergeRules(merge=((key_fp, value_fp),)), tasks) == []


def test_normalize_reports_rule_warnings(tmp_path: Path) -> None:
    rules_file = tmp_path / "rules.toml"
    rules_file.write_text('[[merge]]\nfingerprints = ["0123456789abcdef", "fedcba9876543210"]\n')
    summary = normalize(
        tmp_path / "out", sentry=sample_path("sentry_errors.json"), rules=rules_file, config_root=tmp_path
    )
    assert summary.warnings == (
        "rules: merge[0] names 0123456789abcdef, fedcba9876543210, which matches no task",
    )


def test_a_test_failing_with_an_issues_error_raised_elsewhere_is_offered_not_merged() -> None:
    """Its own TypeError, raised in test code: alike, but nothing shows it is the app's error."""
    app = PyFrame("shop.stats", "ratio")
    failures = sentry_failures(
        sentry_issue(
            "1", "TypeError", "Cannot read properties of null (reading 'total')", [app], platform="javascript"
        )
    )
    tests = playwright_failures(
        [
            Spec(
                "cart.spec.ts",
                ("Cart", "total"),
                "TypeError: Cannot read properties of null (reading 'total')",
            )
        ]
    )
    tasks = build_tasks(failures + tests, Config())
    assert len(tasks) == 2
    [row] = near_duplicates(tasks).iter_rows(named=True)
    assert "'Cart › total' fails with the error TypeError: Cannot read properties of null" in row["why"]
    assert row["score"] >= 0.85


def test_two_tasks_with_one_crash_function_are_always_offered() -> None:
    parse = PyFrame("shop.cart", "parse_quantity")
    failures = sentry_failures(
        sentry_issue("1", "ValueError", "invalid literal for int() with base 10: '1,5'", [parse]),
        sentry_issue("2", "ValueError", "could not convert string to float: 'abc'", [parse]),
    )
    tasks = build_tasks(failures, Config())
    assert len(tasks) == 2  # the messages differ beyond values: not merged automatically
    [row] = near_duplicates(tasks).iter_rows(named=True)
    assert "same crash function shop/cart.py:parse_quantity" in row["why"]


def test_the_notebook_reads_the_configured_rules_file_for_its_warnings(tmp_path: Path) -> None:
    from selfheal.dedup import describe_rule_warnings

    tasks = build_tasks(sentry_failures(sentry_issue("1", "KeyError", "'ACME-7'", [LOOKUP])), Config())
    assert describe_rule_warnings(tasks, tmp_path) == "every rule in the rules file matches a task"
    (tmp_path / "selfheal-rules.toml").write_text(
        f'[[merge]]\nfingerprints = ["{tasks[0].fingerprint}", "0123456789abcdef"]\n'
    )
    assert (
        describe_rule_warnings(tasks, tmp_path)
        == "rules: merge[0] names 0123456789abcdef, which matches no task"
    )
