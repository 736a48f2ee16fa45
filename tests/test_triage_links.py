"""Triage on the patterns of real data: one task per bug, precision first, every merge explained.

Inputs are built in the real formats (``tests/triage_builders.py``) and parsed by the real
sources; the expected groups are written by hand from what each pattern means.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from triage_builders import (
    JsFrame,
    PyFrame,
    Spec,
    playwright_failures,
    sentry_failures,
    sentry_issue,
)

from selfheal.config import Config
from selfheal.contracts import contract_errors
from selfheal.dedup import MergeRules
from selfheal.models import PatchTask
from selfheal.normalize import build_tasks, merge_tasks
from selfheal.paths import RepoTree
from selfheal.records import Failure

APP_JS = "http://localhost:3000/static/app.js"
LOOKUP = PyFrame("billing.discounts", "lookup_code", 41)
CHECKOUT = PyFrame("api.views", "checkout", 88)
NIGHTLY = PyFrame("jobs.nightly", "recompute", 12)
#: A release moved the check that apply_code made into the helper check_code.
APPLY_CODE = PyFrame("billing.discounts", "apply_code", 30)
CHECK_CODE = PyFrame("billing.discounts", "check_code", 52)


def groups(tasks: list[PatchTask]) -> set[frozenset[str]]:
    return {frozenset(f"{o.source}:{o.id}" for o in t.occurrences) for t in tasks}


def task_with(tasks: list[PatchTask], item: str) -> PatchTask:
    return next(t for t in tasks if any(f"{o.source}:{o.id}" == item for o in t.occurrences))


def test_one_dictionary_lookup_with_different_keys_callers_and_releases_is_one_task() -> None:
    failures = sentry_failures(
        sentry_issue("1", "KeyError", "'ACME-7'", [LOOKUP, CHECKOUT], release="shop@2.0.0"),
        sentry_issue(
            "2", "KeyError", "'BETA-22'", [PyFrame("billing.discounts", "lookup_code", 44), NIGHTLY]
        ),
        sentry_issue("3", "KeyError", "'XMAS-2026'", [LOOKUP, CHECKOUT], release="shop@2.1.0"),
    )
    [task] = build_tasks(failures, Config())
    assert groups([task]) == {frozenset({"sentry:1", "sentry:2", "sentry:3"})}
    [reason] = task.merge_reasons
    assert "same KeyError and crash function billing/discounts.py:lookup_code" in reason
    assert "message differs only by a quoted value" in reason
    assert "reached from 2 callers" in reason
    assert contract_errors(task.to_json()) == []
    assert task.to_json()["mergeReasons"] == [reason]


def test_a_missing_field_name_is_the_bug_so_two_names_stay_two_tasks() -> None:
    failures = sentry_failures(  # item["sku"] on line 12, item["price"] on line 13
        sentry_issue("1", "KeyError", "'sku'", [PyFrame("shop.cart", "line_total", 12)]),
        sentry_issue("2", "KeyError", "'price'", [PyFrame("shop.cart", "line_total", 13)]),
    )
    assert len(build_tasks(failures, Config())) == 2


def test_quoted_names_raised_on_one_line_in_one_release_are_one_lookup() -> None:
    failures = sentry_failures(  # CODES[code] with codes typed as plain words
        sentry_issue("1", "KeyError", "'summer'", [PyFrame("shop.codes", "find", 20)], release="shop@3.0"),
        sentry_issue("2", "KeyError", "'winter'", [PyFrame("shop.codes", "find", 20)], release="shop@3.0"),
        sentry_issue("3", "KeyError", "'autumn'", [PyFrame("shop.codes", "find", 24)], release="shop@3.1"),
    )
    tasks = build_tasks(failures, Config())
    assert groups(tasks) == {frozenset({"sentry:1", "sentry:2"}), frozenset({"sentry:3"})}
    merged = task_with(tasks, "sentry:1")
    assert (
        "same KeyError on line 20 of shop/codes.py:find in shop@3.0: the quoted key is data"
        in (merged.merge_reasons[0])
    )


def test_ids_and_amounts_inside_a_message_do_not_split_one_check() -> None:
    failures = sentry_failures(
        sentry_issue("1", "ValueError", "discount ACME-7 expired on order 1001 (12.50 EUR)", [LOOKUP]),
        sentry_issue("2", "ValueError", "discount BETA-22 expired on order 2002 (3.10 EUR)", [LOOKUP]),
    )
    [task] = build_tasks(failures, Config())
    assert "message differs only by values" in task.merge_reasons[0]


def test_an_error_raised_inside_a_library_belongs_to_the_in_app_caller_whatever_its_message() -> None:
    loads = PyFrame("json", "loads", 346, in_app=False)
    decode = PyFrame("json.decoder", "raw_decode", 353, in_app=False)
    parse = PyFrame("inventory.feed", "parse_line", 20)
    other = PyFrame("inventory.feed", "parse_header", 9)
    failures = sentry_failures(
        sentry_issue(
            "1", "JSONDecodeError", "Expecting value: line 1 column 31 (char 30)", [decode, loads, parse]
        ),
        sentry_issue(
            "2",
            "JSONDecodeError",
            "Expecting ',' delimiter: line 1 column 9 (char 8)",
            [decode, loads, parse],
        ),
        sentry_issue(
            "3", "JSONDecodeError", "Expecting value: line 1 column 2 (char 1)", [decode, loads, other]
        ),
    )
    tasks = build_tasks(failures, Config())
    assert groups(tasks) == {frozenset({"sentry:1", "sentry:2"}), frozenset({"sentry:3"})}
    merged = task_with(tasks, "sentry:1")
    assert "raised inside library code json.loads" in merged.merge_reasons[0]
    assert merged.expected_fix.files_hint[0] == "inventory/feed.py"  # the in-app frame, not json


def test_same_exception_type_is_not_the_same_bug() -> None:
    poll = JsFrame(APP_JS, "pollStock")
    failures = sentry_failures(
        sentry_issue("1", "TypeError", "Failed to fetch", [poll], platform="javascript"),
        sentry_issue(
            "2",
            "TypeError",
            "Cannot read properties of null (reading 'status')",
            [poll],
            platform="javascript",
        ),
        sentry_issue("3", "ZeroDivisionError", "division by zero", [PyFrame("shop.stats", "ratio")], count=1),
    )
    tests = playwright_failures([Spec("stock.spec.ts", ("Stock", "polls"), "TypeError: Failed to fetch")])
    tasks = build_tasks(failures + tests, Config())
    assert frozenset({"sentry:2"}) in groups(tasks)  # never with the network error
    assert frozenset({"sentry:3"}) in groups(tasks)  # one-off noise stays alone
    assert all(
        not t.merge_reasons for t in tasks if "sentry:2" in {f"{o.source}:{o.id}" for o in t.occurrences}
    )


def test_a_check_moved_into_a_helper_in_a_new_release_is_the_same_bug() -> None:
    failures = sentry_failures(
        sentry_issue(
            "1", "ValueError", "code ACME-7 is expired", [APPLY_CODE, CHECKOUT], release="shop@2.0.0"
        ),
        sentry_issue(
            "2", "ValueError", "code BETA-22 is expired", [CHECK_CODE, APPLY_CODE], release="shop@2.1.0"
        ),
    )
    [task] = build_tasks(failures, Config())
    assert any("the check moved into a helper" in r for r in task.merge_reasons)
    same_release = sentry_failures(
        sentry_issue(
            "1", "ValueError", "code ACME-7 is expired", [APPLY_CODE, CHECKOUT], release="shop@2.1.0"
        ),
        sentry_issue(
            "2", "ValueError", "code BETA-22 is expired", [CHECK_CODE, APPLY_CODE], release="shop@2.1.0"
        ),
    )
    assert len(build_tasks(same_release, Config())) == 2  # both paths exist in one release: two places


def test_a_test_showing_an_error_whose_check_moved_into_a_helper_joins_both_releases_issues() -> None:
    # The check moved into a helper, so the bug has two Sentry issues (two crash functions)
    # that say the same thing. A test showing that error means the bug, not one of two
    # look-alike issues: it links once they are one cluster (found on a held-out corpus).
    failures = sentry_failures(
        sentry_issue(
            "1", "ValueError", "code ACME-7 is expired", [APPLY_CODE, CHECKOUT], release="shop@2.0.0"
        ),
        sentry_issue(
            "2", "ValueError", "code BETA-22 is expired", [CHECK_CODE, APPLY_CODE], release="shop@2.1.0"
        ),
    )
    ui = (
        "Error: expect(locator).toHaveText(expected) failed\n\n"
        "Locator:  getByRole('alert')\n"
        'Expected: "Code applied"\n'
        'Received: "Sorry! (ValueError: code XMAS-9 is expired) Please try again"\n'
    )
    tests = playwright_failures([Spec("coupons.spec.ts", ("Coupons", "applies XMAS-9"), ui)])
    tasks = build_tasks(failures + tests, Config())
    assert groups(tasks) == {frozenset({"sentry:1", "sentry:2", f"playwright:{tests[0].item_id}"})}
    [task] = tasks
    assert any("shows the Sentry error ValueError: code XMAS-9 is expired" in r for r in task.merge_reasons)


def test_a_test_showing_the_servers_error_text_joins_the_sentry_issue() -> None:
    failures = sentry_failures(
        sentry_issue("1", "KeyError", "'ACME-7'", [LOOKUP, CHECKOUT]),
        sentry_issue("2", "KeyError", "'user_id'", [PyFrame("accounts.profile", "load")]),
    )
    ui = (
        "Error: expect(locator).toHaveText(expected) failed\n\n"
        "Locator:  getByTestId('checkout-status')\n"
        'Expected: "Order placed"\n'
        "Received: \"Internal error: KeyError: 'BETA-22'\"\n"
        "Timeout:  5000ms"
    )
    tests = playwright_failures(
        [Spec("checkout.spec.ts", ("Checkout", "applies a code"), ui)], ("chromium", "firefox")
    )
    tasks = build_tasks(failures + tests, Config())
    linked = task_with(tasks, "sentry:1")
    assert {o.source for o in linked.occurrences} == {"sentry", "playwright"}
    assert len(linked.occurrences) == 3  # the issue and the test in both projects
    assert any(
        "test failure 'Checkout › applies a code' shows the Sentry error KeyError: 'BETA-22'" in r
        for r in linked.merge_reasons
    )
    assert linked.expected_fix.files_hint[0] == "billing/discounts.py"  # not the test file
    assert linked.source == "sentry"
    assert not linked.flaky


def test_a_page_error_joins_the_browser_issue_whose_script_function_its_frames_name() -> None:
    render = JsFrame(APP_JS, "renderCart", 42, 17)
    other = JsFrame(APP_JS, "renderWishlist", 90, 3)
    failures = sentry_failures(
        sentry_issue(
            "1",
            "TypeError",
            "Cannot read properties of null (reading 'total')",
            [render],
            platform="javascript",
        ),
        sentry_issue(
            "2",
            "TypeError",
            "Cannot read properties of null (reading 'total')",
            [other],
            platform="javascript",
        ),
    )
    page_error = (
        "Error: expect(received).toEqual(expected) // deep equality\n\n"
        "- Expected  - 1\n+ Received  + 4\n\n"
        "- Array []\n+ Array [\n"
        "+   \"TypeError: Cannot read properties of null (reading 'total')\n"
        f'+     at renderCart ({APP_JS}:42:17)",\n+ ]'
    )
    tests = playwright_failures([Spec("cart.spec.ts", ("Cart", "shows the total"), page_error)])
    tasks = build_tasks(failures + tests, Config())
    assert frozenset({"sentry:1", "playwright:spec0"}) in groups(tasks)
    assert frozenset({"sentry:2"}) in groups(tasks)
    linked = task_with(tasks, "sentry:1")
    assert any("with the same crash function static/app.js:renderCart" in r for r in linked.merge_reasons)


def test_a_rethrown_page_error_is_linked_by_its_frames_even_when_served_from_another_host() -> None:
    render = JsFrame("https://shop.example.com/static/app.js", "renderCart", 42, 17)
    served = JsFrame("http://127.0.0.1:4173/static/app.js", "renderCart", 42, 17)
    failures = sentry_failures(
        sentry_issue(
            "1",
            "TypeError",
            "Cannot read properties of null (reading 'total')",
            [render],
            platform="javascript",
        )
    )
    tests = playwright_failures(
        [
            Spec(
                "cart.spec.ts",
                ("Cart", "total"),
                "TypeError: Cannot read properties of null (reading 'total')",
                (served.v8_line(),),
            )
        ]
    )
    [task] = build_tasks(failures + tests, Config())
    assert set(task.sources) == {"sentry", "playwright"}
    assert task.expected_fix.files_hint[0] == "static/app.js"


def test_a_test_whose_text_fits_two_issues_equally_joins_neither() -> None:
    failures = sentry_failures(
        sentry_issue("1", "KeyError", "'ACME-7'", [LOOKUP]),
        sentry_issue("2", "KeyError", "'ORD-1'", [PyFrame("orders.store", "load_order")]),
    )
    tests = playwright_failures(
        [
            Spec(
                "checkout.spec.ts",
                ("Checkout", "x"),
                "Error: expect(locator).toHaveText(expected) failed\n\nReceived: \"KeyError: 'ZED-9'\"",
            )
        ]
    )
    tasks = build_tasks(failures + tests, Config())
    assert groups(tasks) == {
        frozenset({"sentry:1"}),
        frozenset({"sentry:2"}),
        frozenset({"playwright:spec0"}),
    }


def test_a_500_response_body_carrying_the_traceback_links_the_test() -> None:
    failures = sentry_failures(
        sentry_issue("1", "ZeroDivisionError", "division by zero", [PyFrame("shop.stats", "ratio")])
    )
    body = (
        "Error: expect(received).toBe(expected) // Object.is equality\n\n"
        "Expected: 200\nReceived: 500\n"
        'response: {"error": "ZeroDivisionError: division by zero", "trace": "..."}'
    )
    tests = playwright_failures([Spec("stats.spec.ts", ("Stats", "loads"), body)])
    [task] = build_tasks(failures + tests, Config())
    assert len(task.occurrences) == 2


def test_parametrized_tests_merge_and_different_failures_in_one_spec_stay_apart() -> None:
    assertion = 'Error: expect(received).toBe(expected)\n\nExpected: "Refunded"\nReceived: "Pending"'
    tests = playwright_failures(
        [
            Spec("refunds.spec.ts", ("Refunds", "refunds order 1001 in EUR"), assertion, line=10),
            Spec("refunds.spec.ts", ("Refunds", "refunds order 2002 in EUR"), assertion, line=10),
            Spec(
                "refunds.spec.ts",
                ("Refunds", "lists refunds"),
                "Test timeout of 5000ms exceeded.",
                line=30,
                status="timedOut",
            ),
            Spec("refunds.spec.ts", ("Refunds", "shows the refund total"), assertion, line=40),
        ]
    )
    tasks = build_tasks(tests, Config())
    assert groups(tasks) == {
        frozenset({"playwright:spec0", "playwright:spec1"}),
        frozenset({"playwright:spec2"}),
        frozenset({"playwright:spec3"}),  # another test failing with the same matcher: another bug
    }
    parametrized = task_with(tasks, "playwright:spec0")
    assert "parametrized test: titles differ only by numbers or ids" in parametrized.merge_reasons[0]


def test_the_rules_file_wins_over_every_link() -> None:
    failures = sentry_failures(sentry_issue("1", "KeyError", "'ACME-7'", [LOOKUP]))
    tests = playwright_failures(
        [Spec("checkout.spec.ts", ("Checkout", "x"), "Error: failed\n\nReceived: \"KeyError: 'BETA-22'\"")]
    )
    linked = build_tasks(failures + tests, Config())
    assert len(linked) == 1
    sentry_fp = build_tasks(failures, Config())[0].fingerprint
    test_fp = build_tasks(tests, Config())[0].fingerprint
    never = MergeRules(never_merge=(frozenset({sentry_fp, test_fp}),))
    assert len(build_tasks(failures + tests, Config(), rules=never)) == 2
    split = MergeRules(split=frozenset({"playwright:spec0:chromium"}))
    assert len(build_tasks(failures + tests, Config(), rules=split)) == 2
    merge = MergeRules(merge=((test_fp, sentry_fp),), merge_notes=("one bug",))
    [task] = build_tasks(failures + tests, Config(), rules=merge)
    assert task.fingerprint == test_fp  # the first fingerprint of a merge rule names the task
    assert "merged by a [[merge]] rule in the rules file: one bug" in task.merge_reasons


def test_files_hint_puts_the_app_script_before_test_code_and_keeps_unsure_hints(tmp_path: Path) -> None:
    page_error = "TypeError: Cannot read properties of null (reading 'x')"
    stack = (f"    at renderCart ({APP_JS}:42:17)", "    at /work/shop/e2e/tests/helpers/cart.ts:9:3")
    tests = playwright_failures([Spec("cart.spec.ts", ("Cart", "x"), page_error, stack)])
    [task] = build_tasks(tests, Config())
    hints = task.expected_fix.files_hint
    assert hints[0] == "static/app.js"
    assert hints.index("tests/helpers/cart.ts") < hints.index("tests/cart.spec.ts")
    tree = RepoTree(["frontend/static/app.js", "tests/cart.spec.ts"])
    [with_tree] = build_tasks(tests, Config(), tree=tree)
    hints = with_tree.expected_fix.files_hint
    assert hints[0] == "frontend/static/app.js"  # resolved in the checkout by its trailing path
    assert "tests/helpers/cart.ts" in hints  # not in the checkout: kept, after the verified ones
    assert hints.index("tests/cart.spec.ts") < hints.index("tests/helpers/cart.ts")


def test_a_test_only_file_and_the_merged_file_make_one_task_for_pull_requests() -> None:
    failures = sentry_failures(sentry_issue("1", "KeyError", "'ACME-7'", [LOOKUP]))
    tests = playwright_failures(
        [Spec("checkout.spec.ts", ("Checkout", "x"), "Error: failed\n\nReceived: \"KeyError: 'B-2'\"")]
    )
    merged = build_tasks(failures + tests, Config())
    tests_only = build_tasks(tests, Config())
    [task] = merge_tasks(merged + tests_only)
    assert len(task.occurrences) == 2
    assert task.frequency == merged[0].frequency  # the test counted once
    assert tests_only[0].fingerprint in task.merged_fingerprints


def test_last_weeks_task_named_by_a_now_merged_cluster_is_ongoing_not_resolved() -> None:
    failures = sentry_failures(sentry_issue("1", "KeyError", "'ACME-7'", [LOOKUP]))
    tests = playwright_failures(
        [Spec("checkout.spec.ts", ("Checkout", "x"), "Error: failed\n\nReceived: \"KeyError: 'B-2'\"")]
    )
    last_week = build_tasks(tests, Config())
    this_week = build_tasks(failures + tests, Config(), previous=last_week)
    assert [t.status for t in this_week] == ["ongoing"]


@pytest.mark.parametrize("count", [200, 800])
def test_many_issues_saying_the_same_thing_each_get_their_own_test(count: int) -> None:
    """Hundreds of issues whose messages normalize alike: the raw text tells each test's issue.

    (The index looks candidates up by crash function and raw message instead of comparing every
    pair; at 800 this runs in well under a second, where the pairwise version took half a minute.)
    """
    issues = [
        sentry_issue(
            str(n), "LookupError", f"no stock row for warehouse W{n}X", [PyFrame(f"stock.m{n}", f"fetch_{n}")]
        )
        for n in range(count)
    ]
    texts = [
        Spec(
            f"s{n}.spec.ts",
            (f"Stock {n}", "loads"),
            f'Error: failed\n\nReceived: "LookupError: no stock row for warehouse W{n}X"',
        )
        for n in range(count)
    ]
    failures: list[Failure] = sentry_failures(*issues) + playwright_failures(texts)
    tasks = build_tasks(failures, Config())
    assert len(tasks) == count
    assert all(len(t.occurrences) == 2 for t in tasks)


@pytest.mark.parametrize(
    ("exception_type", "value", "shown"),
    [
        ("KeyError", "'ACME-7'", "detail: KeyError('BETA-22')"),  # Python's repr of the exception
        ("ValueError", "code ACME-7 is expired", "detail: ValueError('code BETA-22 is expired')"),
        (  # a JSON response body: the message's own double quotes arrive escaped
            "DataError",
            'invalid input syntax for type integer: "abc"',
            '{"error": "DataError: invalid input syntax for type integer: \\"x1\\""}',
        ),
    ],
)
def test_errors_shown_as_a_repr_or_inside_json_are_found(exception_type: str, value: str, shown: str) -> None:
    failures = sentry_failures(sentry_issue("1", exception_type, value, [LOOKUP]))
    tests = playwright_failures([Spec("api.spec.ts", ("API", "x"), f"Error: request failed\n\n{shown}")])
    [task] = build_tasks(failures + tests, Config())
    assert len(task.occurrences) == 2


def test_a_check_moved_two_levels_down_is_still_the_same_bug() -> None:
    validate = PyFrame("billing.rules", "validate", 8)
    check = PyFrame("billing.rules", "check_expiry", 19)
    failures = sentry_failures(
        sentry_issue(
            "1", "ValueError", "code ACME-7 is expired", [APPLY_CODE, CHECKOUT], release="shop@2.0.0"
        ),
        sentry_issue(
            "2", "ValueError", "code BETA-22 is expired", [check, validate, APPLY_CODE], release="shop@2.1.0"
        ),
    )
    [task] = build_tasks(failures, Config())
    assert any("billing/discounts.py:apply_code raised it in one release" in r for r in task.merge_reasons)


def test_the_pull_request_body_and_task_file_say_why_items_were_merged() -> None:
    from selfheal.pullrequests.render import render_pr_body, render_task_file

    failures = sentry_failures(
        sentry_issue("1", "KeyError", "'ACME-7'", [LOOKUP, CHECKOUT]),
        sentry_issue("2", "KeyError", "'BETA-22'", [LOOKUP, NIGHTLY]),
    )
    [task] = build_tasks(failures, Config())
    for text in (render_pr_body(task), render_task_file(task)):
        assert "Why these were merged" in text
        # Markdown-escaped, like every string taken from a task.
        assert "same KeyError and crash function billing/discounts.py:lookup\\_code" in text
    [single] = build_tasks(failures[:1], Config())
    assert "Why these were merged" not in render_pr_body(single)


def test_a_page_error_listed_by_its_message_only_still_links() -> None:
    """Tests often collect ``error.message`` from page errors: the text has no type."""
    render = JsFrame(APP_JS, "renderCart", 42, 17)
    failures = sentry_failures(
        sentry_issue(
            "1",
            "TypeError",
            "Cannot read properties of null (reading 'total')",
            [render],
            platform="javascript",
        ),
        sentry_issue("2", "ZeroDivisionError", "division by zero", [PyFrame("shop.stats", "ratio")]),
    )
    listed = (
        "Error: expect(received).toEqual(expected) // deep equality\n\n"
        "- Array []\n+ Array [\n+   \"Cannot read properties of null (reading 'grandTotal')\",\n+ ]"
    )
    short = 'Error: expect(received).toEqual(expected)\n\n+   "division by zero"'  # too short to be telling
    tests = playwright_failures(
        [Spec("cart.spec.ts", ("Cart", "total"), listed), Spec("stats.spec.ts", ("Stats", "ratio"), short)]
    )
    tasks = build_tasks(failures + tests, Config())
    assert groups(tasks) == {
        frozenset({"sentry:1", "playwright:spec0"}),
        frozenset({"sentry:2"}),
        frozenset({"playwright:spec1"}),
    }


def test_a_page_error_raised_inside_a_vendored_script_belongs_to_the_app_script_calling_it() -> None:
    """Sentry marks static/vendor/ frames as not in-app; a page error's frames are all served
    from the app's origin. Both name the app function that called the library."""
    chart_url = "http://localhost:3000/static/vendor/minichart.js"
    failures = sentry_failures(
        sentry_issue(
            "1",
            "TypeError",
            "Cannot read properties of undefined (reading 'length')",
            [JsFrame(APP_JS, "renderSalesChart", 150)],
            platform="javascript",
        )
    )
    stack = (f"    at drawSeries ({chart_url}:3:20)", f"    at renderSalesChart ({APP_JS}:150:9)")
    tests = playwright_failures(
        [
            Spec(
                "sales.spec.ts",
                ("Sales", "chart"),
                "TypeError: Cannot read properties of undefined (reading 'length')",
                stack,
            )
        ]
    )
    [task] = build_tasks(failures + tests, Config())
    assert set(task.sources) == {"sentry", "playwright"}
    [tests_only] = build_tasks(tests, Config())
    assert tests_only.expected_fix.files_hint[0] == "static/app.js"  # not the vendored script


def test_a_test_showing_a_logged_error_without_a_type_joins_it() -> None:
    """A log-message issue (no exception, no stack) shown by the UI word for word."""
    logged = sentry_issue("1", "", "", [])
    logged["issue"].update(
        title="Payment provider did not confirm pay_2301 within 7510 ms", logger="shop.payments"
    )
    logged["issue"]["metadata"] = {"title": logged["issue"]["title"]}
    logged["latestEvent"].update(title=logged["issue"]["title"], entries=[], message=logged["issue"]["title"])
    failures = sentry_failures(logged)
    assert failures[0].exception_type == ""
    ui = (
        "Error: expect(locator).toHaveText(expected) failed\n\n"
        'Received: "Payment provider did not confirm pay_88 within 9000 ms"'
    )
    tests = playwright_failures([Spec("pay.spec.ts", ("Pay", "confirms"), ui)])
    [task] = build_tasks(failures + tests, Config())
    assert any(
        "shows the Sentry error Payment provider did not confirm pay_88" in r for r in task.merge_reasons
    )
