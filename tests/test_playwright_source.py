"""Playwright JSON reports → Failure records.

The expected tables below were written by hand from reading the real reports in
tests/fixtures/playwright/ (copied from the shared fixtures; see facts/playwright-report.md):
run 1 has 15 unexpected + 1 flaky test x project entries, run 2 has 13 unexpected + 1 flaky.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest

from selfheal.errors import InputError
from selfheal.records import Failure
from selfheal.sources.playwright import (
    find_default_report,
    load_playwright_report,
    parse_js_stack_line,
    parse_playwright_report,
)
from selfheal.sources.stacktext import MAX_MESSAGE_CHARS

FIXTURES = Path(__file__).parent / "fixtures" / "playwright"
RUN1 = FIXTURES / "report.json"
RUN2 = FIXTURES / "report-run2.json"
LOAD_ERROR = FIXTURES / "report-load-error.json"
FORCE_COLOR = FIXTURES / "report-force-color.json"

DESKTOP, MOBILE = "chromium", "chromium-mobile"
TO_HAVE_TEXT = "expect(locator).toHaveText(expected) failed"
TO_HAVE_COUNT = "expect(locator).toHaveCount(expected) failed"
TO_BE_VISIBLE = "expect(locator).toBeVisible() failed"
TO_BE = "expect(received).toBe(expected) // Object.is equality"
MAP_ERROR = "Cannot read properties of undefined (reading 'map')"
TIMEOUT = "Test timeout of 5000ms exceeded."

# (project, title, outcome, exception type, first message line, crash frame, spec file,
#  failed attempts, attempts, timed out) in report order: file, describe, spec, project.
RUN1_EXPECTED = [
    (DESKTOP, "Login › shows an error for a wrong password", "unexpected", "Error", TO_HAVE_TEXT,
     "tests/auth/login.spec.ts:30", "tests/auth/login.spec.ts", 2, 2, False),
    (MOBILE, "Login › shows an error for a wrong password", "unexpected", "Error", TO_HAVE_TEXT,
     "tests/auth/login.spec.ts:30", "tests/auth/login.spec.ts", 2, 2, False),
    (DESKTOP, "Cart › shows the correct total for two items", "unexpected", "Error", TO_BE,
     "tests/helpers/cart.ts:29 in expectCartTotal", "tests/checkout/cart.spec.ts", 2, 2, False),
    (MOBILE, "Cart › shows the correct total for two items", "unexpected", "Error", TO_BE,
     "tests/helpers/cart.ts:29 in expectCartTotal", "tests/checkout/cart.spec.ts", 2, 2, False),
    (DESKTOP, "Cart › applies a discount code", "flaky", "Error", TO_HAVE_TEXT,
     "tests/checkout/cart.spec.ts:28", "tests/checkout/cart.spec.ts", 1, 2, False),
    (DESKTOP, "Cart › removes SKU-1042 from the cart", "unexpected", "Error", TO_HAVE_COUNT,
     "tests/checkout/cart.spec.ts:37", "tests/checkout/cart.spec.ts", 2, 2, False),
    (MOBILE, "Cart › removes SKU-1042 from the cart", "unexpected", "Error", TO_HAVE_COUNT,
     "tests/checkout/cart.spec.ts:37", "tests/checkout/cart.spec.ts", 2, 2, False),
    (DESKTOP, "Cart › removes SKU-2077 from the cart", "unexpected", "Error", TO_HAVE_COUNT,
     "tests/checkout/cart.spec.ts:37", "tests/checkout/cart.spec.ts", 2, 2, False),
    (MOBILE, "Cart › removes SKU-2077 from the cart", "unexpected", "Error", TO_HAVE_COUNT,
     "tests/checkout/cart.spec.ts:37", "tests/checkout/cart.spec.ts", 2, 2, False),
    (DESKTOP, "Checkout › with an empty cart › warns before checkout", "unexpected", "Error",
     TO_BE_VISIBLE, "tests/checkout/order.spec.ts:32", "tests/checkout/order.spec.ts", 2, 2, False),
    (MOBILE, "Checkout › with an empty cart › warns before checkout", "unexpected", "Error",
     TO_BE_VISIBLE, "tests/checkout/order.spec.ts:32", "tests/checkout/order.spec.ts", 2, 2, False),
    (DESKTOP, "Search › shows suggestions while typing", "unexpected", "TypeError", MAP_ERROR,
     "js/search.js:24", "tests/search.spec.ts", 2, 2, False),
    (MOBILE, "Search › shows suggestions while typing", "unexpected", "TypeError", MAP_ERROR,
     "js/search.js:24", "tests/search.spec.ts", 2, 2, False),
    (DESKTOP, "Search › loads more results", "unexpected", "TimeoutError", TIMEOUT,
     "tests/search.spec.ts:49", "tests/search.spec.ts", 2, 2, True),
    (MOBILE, "Search › loads more results", "unexpected", "TimeoutError", TIMEOUT,
     "tests/search.spec.ts:49", "tests/search.spec.ts", 2, 2, True),
    (MOBILE, "Site header › shows the main navigation links", "unexpected", "Error", TO_BE_VISIBLE,
     "tests/search.spec.ts:58", "tests/search.spec.ts", 2, 2, False),
]  # fmt: skip

EXPECTED_TO_FAIL = "Expected to fail, but passed."
RUN2_EXPECTED = [
    (DESKTOP, "Login › logs in with valid credentials", "unexpected", "Error", TO_HAVE_TEXT,
     "tests/auth/login.spec.ts:23", "tests/auth/login.spec.ts", 2, 2, False),
    (MOBILE, "Login › logs in with valid credentials", "unexpected", "Error", TO_HAVE_TEXT,
     "tests/auth/login.spec.ts:23", "tests/auth/login.spec.ts", 2, 2, False),
    (DESKTOP, "Cart › applies a discount code", "flaky", "Error", TO_HAVE_TEXT,
     "tests/checkout/cart.spec.ts:28", "tests/checkout/cart.spec.ts", 1, 2, False),
    (DESKTOP, "Checkout › places an order", "unexpected", "Error", TO_HAVE_TEXT,
     "tests/checkout/order.spec.ts:24", "tests/checkout/order.spec.ts", 2, 2, False),
    (MOBILE, "Checkout › places an order", "unexpected", "Error", TO_HAVE_TEXT,
     "tests/checkout/order.spec.ts:24", "tests/checkout/order.spec.ts", 2, 2, False),
    (DESKTOP, "Checkout › with an empty cart › warns before checkout", "unexpected", "Error",
     TO_BE_VISIBLE, "tests/checkout/order.spec.ts:32", "tests/checkout/order.spec.ts", 2, 2, False),
    (MOBILE, "Checkout › with an empty cart › warns before checkout", "unexpected", "Error",
     TO_BE_VISIBLE, "tests/checkout/order.spec.ts:32", "tests/checkout/order.spec.ts", 2, 2, False),
    (DESKTOP, "Search › shows an empty state for unknown terms", "unexpected", "Error", TO_HAVE_TEXT,
     "tests/search.spec.ts:24", "tests/search.spec.ts", 2, 2, False),
    (MOBILE, "Search › shows an empty state for unknown terms", "unexpected", "Error", TO_HAVE_TEXT,
     "tests/search.spec.ts:24", "tests/search.spec.ts", 2, 2, False),
    # test.fail() whose bug was fixed: both attempts passed, no error at all in the report.
    (DESKTOP, "Search › sorts results by price", "unexpected", "UnexpectedPass", EXPECTED_TO_FAIL,
     "tests/search.spec.ts:37", "tests/search.spec.ts", 2, 2, False),
    (MOBILE, "Search › sorts results by price", "unexpected", "UnexpectedPass", EXPECTED_TO_FAIL,
     "tests/search.spec.ts:37", "tests/search.spec.ts", 2, 2, False),
    (DESKTOP, "Search › loads more results", "unexpected", "TimeoutError", TIMEOUT,
     "tests/search.spec.ts:49", "tests/search.spec.ts", 2, 2, True),
    (MOBILE, "Search › loads more results", "unexpected", "TimeoutError", TIMEOUT,
     "tests/search.spec.ts:49", "tests/search.spec.ts", 2, 2, True),
    (MOBILE, "Site header › shows the main navigation links", "unexpected", "Error", TO_BE_VISIBLE,
     "tests/search.spec.ts:58", "tests/search.spec.ts", 2, 2, False),
]  # fmt: skip


def summary(f: Failure) -> tuple[Any, ...]:
    return (
        f.project,
        f.title,
        f.outcome,
        f.exception_type,
        f.message.splitlines()[0],
        f.frames[0].describe(),
        f.file,
        f.count,
        f.attempts,
        f.timed_out,
    )


def by_title(failures: list[Failure], title: str, project: str | None = DESKTOP) -> Failure:
    [match] = [f for f in failures if f.title == title and f.project == project]
    return match


@pytest.fixture(scope="module")
def run1() -> list[Failure]:
    return load_playwright_report(RUN1)


@pytest.fixture(scope="module")
def run2() -> list[Failure]:
    return load_playwright_report(RUN2)


def test_run1_yields_exactly_the_15_unexpected_and_1_flaky_test_project_entries(run1: list[Failure]) -> None:
    assert [summary(f) for f in run1] == RUN1_EXPECTED


def test_run2_yields_exactly_the_13_unexpected_and_1_flaky_test_project_entries(run2: list[Failure]) -> None:
    assert [summary(f) for f in run2] == RUN2_EXPECTED


def test_every_failure_is_a_playwright_error_keyed_by_spec_id_and_project(run1: list[Failure]) -> None:
    assert {f.source for f in run1} == {"playwright"}
    assert {f.level for f in run1} == {"error"}
    assert len({f.key for f in run1}) == len(run1)
    # spec.id is the first project's id, shared by both projects' entries of one declaration.
    login = [f for f in run1 if f.title == "Login › shows an error for a wrong password"]
    assert {f.item_id for f in login} == {"231ca1f0f4db3e4958c3-bfbc723e1f507addc879"}


def test_spec_ok_is_ignored_a_mobile_only_failure_is_found(run1: list[Failure]) -> None:
    # spec.ok is true for the navigation test (first project passed); its mobile entry failed.
    nav = [f for f in run1 if f.title == "Site header › shows the main navigation links"]
    assert [(f.project, f.outcome) for f in nav] == [(MOBILE, "unexpected")]


def test_test_fail_is_not_a_failure_in_run1_but_an_unexpected_pass_in_run2(
    run1: list[Failure], run2: list[Failure]
) -> None:
    assert not [f for f in run1 if f.title == "Search › sorts results by price"]
    passed = by_title(run2, "Search › sorts results by price")
    assert passed.message == "Expected to fail, but passed."
    assert passed.frames[0].path == "tests/search.spec.ts"


def test_expect_failure_message_starts_with_the_matcher_and_keeps_the_clean_details(
    run1: list[Failure],
) -> None:
    login = by_title(run1, "Login › shows an error for a wrong password")
    assert login.message == (
        "expect(locator).toHaveText(expected) failed\n"
        "\n"
        "Locator:  getByRole('alert')\n"
        'Expected: "Invalid username or password"\n'
        'Received: "Invalid credentials"\n'
        "Timeout:  2000ms\n"
        "\n"
        "Call log:\n"
        "  - Expect \"toHaveText\" getByRole('alert') with timeout 2000ms\n"
        "  - waiting for getByRole('alert')\n"
        '    18 × locator resolved to <p role="alert" data-testid="login-error">Invalid credentials</p>\n'
        '       - unexpected value "Invalid credentials"'
    )
    assert login.stack == ("at tests/auth/login.spec.ts:30:43",)
    assert login.tags == ("auth",)
    assert login.test_path == ("Login", "shows an error for a wrong password")


def test_attempt_times_and_screenshot_come_from_the_failing_attempts(run1: list[Failure]) -> None:
    login = by_title(run1, "Login › shows an error for a wrong password", MOBILE)
    assert (login.first_seen, login.last_seen) == ("2026-11-24T06:50:51.959Z", "2026-11-24T06:50:54.718Z")
    assert login.screenshot == (
        "test-results/auth-login-Login-shows-an-error-for-a-wrong-password-chromium-mobile-retry1/test-failed-1.png"
    )
    flaky = by_title(run1, "Cart › applies a discount code")
    # Only the first attempt failed: its time and screenshot, not the passing retry's.
    assert flaky.first_seen == flaky.last_seen
    assert (
        flaky.screenshot
        == "test-results/checkout-cart-Cart-applies-a-discount-code-chromium/test-failed-1.png"
    )
    assert (flaky.failed_attempts, flaky.attempts) == (1, 2)


def test_helper_file_failure_has_the_helper_as_crash_frame_then_the_spec(run1: list[Failure]) -> None:
    total = by_title(run1, "Cart › shows the correct total for two items")
    assert [(f.path, f.lineno, f.function, f.in_app) for f in total.frames] == [
        ("tests/helpers/cart.ts", 29, "expectCartTotal", True),
        ("tests/checkout/cart.spec.ts", 17, "", True),
    ]
    assert total.frames[0].abs_path == "/srv/webapp/tests/helpers/cart.ts"
    assert total.stack == (
        "at expectCartTotal (tests/helpers/cart.ts:29:18)",
        "at tests/checkout/cart.spec.ts:17:5",
    )
    assert (
        total.message
        == "expect(received).toBe(expected) // Object.is equality\n\nExpected: 36.99\nReceived: 36"
    )
    assert total.file == "tests/checkout/cart.spec.ts"


def test_page_error_takes_its_type_from_the_message_and_maps_url_frames(run1: list[Failure]) -> None:
    page_error = by_title(run1, "Search › shows suggestions while typing")
    assert (page_error.exception_type, page_error.message) == ("TypeError", MAP_ERROR)
    assert [(f.path, f.lineno, f.function) for f in page_error.frames] == [
        ("js/search.js", 24, ""),
        ("js/search.js", 24, "renderSuggestions"),
        ("js/search.js", 39, "HTMLInputElement.<anonymous>"),
    ]
    assert page_error.frames[1].abs_path == "http://127.0.0.1:4173/js/search.js"
    assert page_error.file == "tests/search.spec.ts"


def test_timeout_is_marked_and_names_the_pending_action(run1: list[Failure]) -> None:
    timeout = by_title(run1, "Search › loads more results")
    assert timeout.timed_out
    assert timeout.message == (
        "Test timeout of 5000ms exceeded.\n"
        "\n"
        "Error: locator.click: Test timeout of 5000ms exceeded.\n"
        "Call log:\n"
        "  - waiting for getByRole('button', { name: 'Load more' })"
    )
    assert timeout.stack == ("at tests/search.spec.ts:49:59",)


def test_nested_describe_failure_is_found_with_its_full_title_path(run1: list[Failure]) -> None:
    nested = by_title(run1, "Checkout › with an empty cart › warns before checkout", MOBILE)
    assert nested.test_path == ("Checkout", "with an empty cart", "warns before checkout")


def test_failure_inside_test_step_keeps_both_frames(run2: list[Failure]) -> None:
    order = by_title(run2, "Checkout › places an order")
    assert [(f.path, f.lineno) for f in order.frames] == [
        ("tests/checkout/order.spec.ts", 24),
        ("tests/checkout/order.spec.ts", 23),
    ]
    assert "Expected pattern: /^Order #\\d+ confirmed$/" in order.message
    assert 'Received string:  "Order #undefined confirmed"' in order.message


def test_run2_regression_message_has_the_differing_letter_without_inverse_video(run2: list[Failure]) -> None:
    welcome = by_title(run2, "Login › logs in with valid credentials")
    assert 'Expected: "Welcome back, demo!"' in welcome.message
    assert welcome.tags == ("smoke", "auth")


def test_file_that_failed_to_load_becomes_one_failure() -> None:
    [failure] = load_playwright_report(LOAD_ERROR)
    assert failure.item_id == "load-error:tests/wishlist.spec.ts"
    assert failure.title == "Failed to load tests/wishlist.spec.ts: Cannot find module './helpers/wishlist'"
    assert failure.exception_type == "Error"
    assert failure.message.startswith("Cannot find module './helpers/wishlist'\nRequire stack:\n")
    assert failure.file == "tests/wishlist.spec.ts"
    assert [(f.path, f.lineno, f.function) for f in failure.frames] == [
        ("tests/wishlist.spec.ts", 2, "Object.<anonymous>")
    ]
    assert failure.project is None
    assert failure.first_seen == "2026-11-24T06:53:03.310Z"


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [s for field in dataclasses.fields(value) for s in _strings(getattr(value, field.name))]
    if isinstance(value, tuple | list):
        return [s for item in value for s in _strings(item)]
    return []


@pytest.mark.parametrize("report", [RUN1, RUN2, LOAD_ERROR, FORCE_COLOR], ids=lambda p: p.name)
def test_no_ansi_escape_survives_in_any_field(report: Path) -> None:
    failures = load_playwright_report(report)
    assert failures
    assert [s for f in failures for s in _strings(f) if "\x1b" in s or "[2m" in s or "[39m" in s] == []


def test_force_color_report_parses_like_the_plain_one(run1: list[Failure]) -> None:
    colored = load_playwright_report(FORCE_COLOR)
    # 13 chromium tests of cart.spec.ts and search.spec.ts: 5 unexpected + 1 flaky.
    assert [(f.title, f.outcome) for f in colored] == [
        ("Cart › shows the correct total for two items", "unexpected"),
        ("Cart › applies a discount code", "flaky"),
        ("Cart › removes SKU-1042 from the cart", "unexpected"),
        ("Cart › removes SKU-2077 from the cart", "unexpected"),
        ("Search › shows suggestions while typing", "unexpected"),
        ("Search › loads more results", "unexpected"),
    ]
    # The highlighted code frame and dim stack lines leave the same text as the plain run
    # (apart from the call log's "N ×" counters, which change between runs).
    plain = {f.title: f for f in run1 if f.project == DESKTOP}
    for f in colored:
        expected = plain[f.title]
        assert (f.exception_type, without_counters(f.message), f.stack, f.frames) == (
            expected.exception_type,
            without_counters(expected.message),
            expected.stack,
            expected.frames,
        )


def without_counters(text: str) -> str:
    return re.sub(r"\d+ ×", "N ×", text)


def test_sku_messages_differ_only_by_the_id_and_counter(run1: list[Failure]) -> None:
    one = by_title(run1, "Cart › removes SKU-1042 from the cart").message
    two = by_title(run1, "Cart › removes SKU-2077 from the cart").message
    assert "getByTestId('cart-line-SKU-1042')" in one
    assert "getByTestId('cart-line-SKU-2077')" in two
    assert one.splitlines()[:2] == two.splitlines()[:2] == [TO_HAVE_COUNT, ""]


# --- paths ----------------------------------------------------------------------------------


def minimal_report(**spec_changes: Any) -> dict[str, Any]:
    """The smallest report with one failing test, shaped like the real ones."""
    spec: dict[str, Any] = {
        "title": "shows the total",
        "ok": False,
        "tags": [],
        "id": "aaaa-bbbb",
        "file": "cart.spec.ts",
        "line": 3,
        "column": 1,
        "tests": [
            {
                "expectedStatus": "passed",
                "projectName": "chromium",
                "status": "unexpected",
                "results": [
                    {
                        "status": "failed",
                        "errors": [{"message": "Error: boom\n    at /ci/repo/e2e/tests/cart.spec.ts:5:7"}],
                    }
                ],
            }
        ],
    }
    spec.update(spec_changes)
    return {
        "config": {"rootDir": "/ci/repo/e2e/tests", "configFile": "/ci/repo/e2e/playwright.config.ts"},
        "suites": [{"title": "cart.spec.ts", "file": "cart.spec.ts", "specs": [spec]}],
        "errors": [],
    }


def test_paths_are_relative_to_the_config_folder() -> None:
    [failure] = parse_playwright_report(minimal_report(), "r.json")
    assert failure.file == "tests/cart.spec.ts"
    assert failure.frames[0].path == "tests/cart.spec.ts"
    assert failure.frames[0].abs_path == "/ci/repo/e2e/tests/cart.spec.ts"


def test_windows_runner_paths_become_posix_repository_paths() -> None:
    report = minimal_report()
    report["config"] = {"rootDir": "C:\\ci\\shop\\tests", "configFile": "C:\\ci\\shop\\playwright.config.ts"}
    report["suites"][0]["specs"][0]["tests"][0]["results"][0]["errors"] = [
        {"message": "Error: boom\n    at C:\\ci\\shop\\tests\\cart.spec.ts:5:7"}
    ]
    [failure] = parse_playwright_report(report, "r.json")
    assert failure.file == "tests/cart.spec.ts"
    assert (failure.frames[0].path, failure.frames[0].lineno) == ("tests/cart.spec.ts", 5)


def test_repo_root_adds_the_playwright_folder_inside_the_checkout(tmp_path: Path) -> None:
    (tmp_path / "e2e" / "tests").mkdir(parents=True)
    [failure] = parse_playwright_report(minimal_report(), "r.json", repo_root=tmp_path)
    assert failure.file == "e2e/tests/cart.spec.ts"
    assert failure.frames[0].path == "e2e/tests/cart.spec.ts"


def test_report_without_config_still_parses() -> None:
    report = minimal_report()
    del report["config"]
    del report["errors"]
    [failure] = parse_playwright_report(report, "r.json")
    assert (failure.title, failure.message, failure.first_seen, failure.screenshot) == (
        "shows the total",
        "boom",
        None,
        None,
    )
    assert failure.file == "cart.spec.ts"


def _with_result(**result: Any) -> dict[str, Any]:
    report = minimal_report()
    report["suites"][0]["specs"][0]["tests"][0]["results"] = [result]
    return report


@pytest.mark.parametrize(
    ("report", "exception_type", "message"),
    [
        # throw "x": a TestError with only a value, no errors[] entry.
        (_with_result(status="failed", errors=[], error={"value": "'out of stock'"}),
         "Error", "'out of stock'"),
        # interrupted (Ctrl-C, maxFailures) without any error.
        (_with_result(status="interrupted", errors=[]), "Error", "Test ended with status interrupted."),
        # a timeout whose errors[] is empty: the message comes from the test's timeout.
        (_with_result(status="timedOut", errors=[]), "TimeoutError", "Test timeout of ?ms exceeded."),
        # an error with a cause: formatError appends it to the message.
        (_with_result(status="failed", errors=[{"message": "Error: outer\n[cause]: Error: inner"}]),
         "Error", "outer\n[cause]: Error: inner"),
    ],
)  # fmt: skip
def test_rare_error_shapes_still_give_a_message(
    report: dict[str, Any], exception_type: str, message: str
) -> None:
    [failure] = parse_playwright_report(report, "r.json")
    assert (failure.exception_type, failure.message) == (exception_type, message)
    # No stack: the test's declaration is the frame.
    assert [(f.path, f.lineno) for f in failure.frames] == [("tests/cart.spec.ts", 3)]


def test_global_error_without_location_is_still_one_failure() -> None:
    report = {"suites": [], "errors": [{"message": "Error: globalSetup failed: database down"}]}
    [failure] = parse_playwright_report(report, "r.json")
    assert (failure.item_id, failure.title) == (
        "global-error:0",
        "Error outside any test: globalSetup failed: database down",
    )


def test_absurdly_long_message_is_truncated_with_a_marker() -> None:
    report = minimal_report()
    report["suites"][0]["specs"][0]["tests"][0]["results"][0]["errors"] = [
        {"message": "Error: " + "x" * (3 * MAX_MESSAGE_CHARS)}
    ]
    [failure] = parse_playwright_report(report, "r.json")
    assert len(failure.message) < MAX_MESSAGE_CHARS + 100
    assert failure.message.endswith(f"… [truncated {2 * MAX_MESSAGE_CHARS:,} characters]")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("    at expectCartTotal (/srv/webapp/tests/helpers/cart.ts:29:18)",
         ("expectCartTotal", "/srv/webapp/tests/helpers/cart.ts", 29, 18)),
        ("    at /srv/webapp/tests/checkout/cart.spec.ts:17:5",
         ("", "/srv/webapp/tests/checkout/cart.spec.ts", 17, 5)),
        ("    at async Promise.all (index 0)", None),
        ("    at async login (/app/tests/login.ts:3:9)", ("login", "/app/tests/login.ts", 3, 9)),
        ("    at http://127.0.0.1:4173/js/search.js:24:62",
         ("", "http://127.0.0.1:4173/js/search.js", 24, 62)),
        ("Expected: 36.99", None),
    ],
)  # fmt: skip
def test_js_stack_lines(line: str, expected: tuple[str, str, int, int] | None) -> None:
    assert parse_js_stack_line(line) == expected


# --- malformed input ------------------------------------------------------------------------


SPEC = "suites[0].specs[0] ('shows the total')"


def _spec_without_tests() -> dict[str, Any]:
    report = minimal_report()
    del report["suites"][0]["specs"][0]["tests"]
    return report


def _test_without_status() -> dict[str, Any]:
    report = minimal_report()
    del report["suites"][0]["specs"][0]["tests"][0]["status"]
    return report


def _results_not_a_list() -> dict[str, Any]:
    report = minimal_report()
    report["suites"][0]["specs"][0]["tests"][0]["results"] = {"status": "failed"}
    return report


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ([], "the report should be a JSON object, not an array"),
        ({"config": {}}, "not a Playwright JSON report: it has neither 'suites' nor 'errors'"),
        ({"suites": "auth.spec.ts"}, "'suites' should be a JSON array, not a string"),
        ({"suites": [None]}, "suites[0] should be a JSON object, not null"),
        ({"suites": [{"specs": {}}]}, "suites[0].specs should be a JSON array, not an object"),
        (_spec_without_tests(), "suites[0].specs[0] ('shows the total') has no 'tests' array"),
        (_test_without_status(), f"{SPEC}.tests[0].status should be a string, not null"),
        (_results_not_a_list(), f"{SPEC}.tests[0].results should be a JSON array, not an object"),
        ({"suites": [], "errors": [42]}, "errors[0] should be a JSON object, not a number"),
    ],
)  # fmt: skip
def test_malformed_report_is_an_input_error_saying_what_is_wrong(data: object, problem: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_playwright_report(data, "reports/pw.json")
    assert (caught.value.path, caught.value.problem) == ("reports/pw.json", problem)


def test_malformed_json_file_is_an_input_error_naming_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "report.json"
    broken.write_text('{"suites": [', encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_playwright_report(broken)
    assert caught.value.path == str(broken)
    assert caught.value.problem.startswith("malformed JSON at line 1 column")


def test_oversized_report_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "report.json"
    big.write_text(json.dumps(minimal_report()), encoding="utf-8")
    with pytest.raises(InputError, match="larger than the limit"):
        load_playwright_report(big, max_bytes=100)


# --- default location -----------------------------------------------------------------------


def test_default_report_is_looked_up_where_the_original_looked(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        find_default_report(tmp_path)
    assert "playwright-report/report.json" in caught.value.problem
    assert "test-results/report.json" in caught.value.problem

    second = tmp_path / "test-results" / "report.json"
    second.parent.mkdir()
    second.write_text("{}", encoding="utf-8")
    assert find_default_report(tmp_path) == second

    first = tmp_path / "playwright-report" / "report.json"
    first.parent.mkdir()
    first.write_text("{}", encoding="utf-8")
    assert find_default_report(tmp_path) == first


def test_page_error_urls_resolve_to_the_served_file_in_a_checkout() -> None:
    from selfheal.paths import RepoTree
    from selfheal.sources.playwright import load_playwright_run

    tree = RepoTree(["web/public/js/search.js", "tests/search.spec.ts", "tests/helpers/cart.ts"])
    run = load_playwright_run(FIXTURES / "report.json", tree=tree)
    page_error = next(f for f in run.failures if f.exception_type == "TypeError")
    assert page_error.frames[0].path == "web/public/js/search.js"  # served as /js/search.js
    assert page_error.file == "tests/search.spec.ts"
