"""JUnit XML → Failure records, across dialects, and hostile or broken files.

Fixtures: tests/fixtures/playwright/junit*.xml are Playwright's real junit output for the two
runs (see facts/playwright-report.md); tests/fixtures/junit/pytest-*.xml and jest-junit*.xml
are real pytest 8 / jest-junit 16 output of small sample projects; surefire.xml and
nested-suites.xml are hand-written in the shape of those reporters. Expected values were
written by hand from reading the files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from selfheal.errors import InputError
from selfheal.records import Failure
from selfheal.sources.junit import parse_junit, parse_junit_text
from selfheal.sources.playwright import load_playwright_report
from selfheal.sources.stacktext import MAX_MESSAGE_CHARS

FIXTURES = Path(__file__).parent / "fixtures"
PLAYWRIGHT = FIXTURES / "playwright"
JUNIT = FIXTURES / "junit"

DESKTOP, MOBILE = "chromium", "chromium-mobile"
TO_HAVE_TEXT = "expect(locator).toHaveText(expected) failed"
TO_HAVE_COUNT = "expect(locator).toHaveCount(expected) failed"
TO_BE_VISIBLE = "expect(locator).toBeVisible() failed"
TO_BE = "expect(received).toBe(expected) // Object.is equality"
MAP_ERROR = "Cannot read properties of undefined (reading 'map')"
TIMEOUT = "Test timeout of 5000ms exceeded."


def summary(f: Failure) -> tuple[Any, ...]:
    """(project, item id, outcome, type, first message line, crash frame, test file)."""
    return (
        f.project,
        f.item_id,
        f.outcome,
        f.exception_type,
        f.message.splitlines()[0] if f.message else "",
        f.frames[0].describe() if f.frames else "",
        f.file,
    )


# One <testsuite> per (project, file), in that order; a flaky test looks like a pass.
PLAYWRIGHT_RUN1 = [
    (DESKTOP, "auth/login.spec.ts::Login › shows an error for a wrong password", "failure", "Error",
     TO_HAVE_TEXT, "tests/auth/login.spec.ts:30", "tests/auth/login.spec.ts"),
    (DESKTOP, "checkout/cart.spec.ts::Cart › shows the correct total for two items", "failure", "Error",
     TO_BE, "tests/helpers/cart.ts:29 in expectCartTotal", "tests/checkout/cart.spec.ts"),
    (DESKTOP, "checkout/cart.spec.ts::Cart › removes SKU-1042 from the cart", "failure", "Error",
     TO_HAVE_COUNT, "tests/checkout/cart.spec.ts:37", "tests/checkout/cart.spec.ts"),
    (DESKTOP, "checkout/cart.spec.ts::Cart › removes SKU-2077 from the cart", "failure", "Error",
     TO_HAVE_COUNT, "tests/checkout/cart.spec.ts:37", "tests/checkout/cart.spec.ts"),
    (DESKTOP, "checkout/order.spec.ts::Checkout › with an empty cart › warns before checkout", "failure",
     "Error", TO_BE_VISIBLE, "tests/checkout/order.spec.ts:32", "tests/checkout/order.spec.ts"),
    (DESKTOP, "search.spec.ts::Search › shows suggestions while typing", "error", "TypeError",
     MAP_ERROR, "js/search.js:24", "tests/search.spec.ts"),
    (DESKTOP, "search.spec.ts::Search › loads more results", "error", "TimeoutError",
     TIMEOUT, "tests/search.spec.ts:49", "tests/search.spec.ts"),
    (MOBILE, "auth/login.spec.ts::Login › shows an error for a wrong password", "failure", "Error",
     TO_HAVE_TEXT, "tests/auth/login.spec.ts:30", "tests/auth/login.spec.ts"),
    (MOBILE, "checkout/cart.spec.ts::Cart › shows the correct total for two items", "failure", "Error",
     TO_BE, "tests/helpers/cart.ts:29 in expectCartTotal", "tests/checkout/cart.spec.ts"),
    (MOBILE, "checkout/cart.spec.ts::Cart › removes SKU-1042 from the cart", "failure", "Error",
     TO_HAVE_COUNT, "tests/checkout/cart.spec.ts:37", "tests/checkout/cart.spec.ts"),
    (MOBILE, "checkout/cart.spec.ts::Cart › removes SKU-2077 from the cart", "failure", "Error",
     TO_HAVE_COUNT, "tests/checkout/cart.spec.ts:37", "tests/checkout/cart.spec.ts"),
    (MOBILE, "checkout/order.spec.ts::Checkout › with an empty cart › warns before checkout", "failure",
     "Error", TO_BE_VISIBLE, "tests/checkout/order.spec.ts:32", "tests/checkout/order.spec.ts"),
    (MOBILE, "search.spec.ts::Search › shows suggestions while typing", "error", "TypeError",
     MAP_ERROR, "js/search.js:24", "tests/search.spec.ts"),
    (MOBILE, "search.spec.ts::Search › loads more results", "error", "TimeoutError",
     TIMEOUT, "tests/search.spec.ts:49", "tests/search.spec.ts"),
    (MOBILE, "search.spec.ts::Site header › shows the main navigation links", "failure", "Error",
     TO_BE_VISIBLE, "tests/search.spec.ts:58", "tests/search.spec.ts"),
]  # fmt: skip

EXPECTED_TO_FAIL = "Expected to fail, but passed."
PLAYWRIGHT_RUN2 = [
    (DESKTOP, "auth/login.spec.ts::Login › logs in with valid credentials", "failure", "Error",
     TO_HAVE_TEXT, "tests/auth/login.spec.ts:23", "tests/auth/login.spec.ts"),
    (DESKTOP, "checkout/order.spec.ts::Checkout › places an order", "failure", "Error",
     TO_HAVE_TEXT, "tests/checkout/order.spec.ts:24", "tests/checkout/order.spec.ts"),
    (DESKTOP, "checkout/order.spec.ts::Checkout › with an empty cart › warns before checkout", "failure",
     "Error", TO_BE_VISIBLE, "tests/checkout/order.spec.ts:32", "tests/checkout/order.spec.ts"),
    (DESKTOP, "search.spec.ts::Search › shows an empty state for unknown terms", "failure", "Error",
     TO_HAVE_TEXT, "tests/search.spec.ts:24", "tests/search.spec.ts"),
    (DESKTOP, "search.spec.ts::Search › sorts results by price", "failure", "UnexpectedPass",
     EXPECTED_TO_FAIL, "tests/search.spec.ts:37", "tests/search.spec.ts"),
    (DESKTOP, "search.spec.ts::Search › loads more results", "error", "TimeoutError",
     TIMEOUT, "tests/search.spec.ts:49", "tests/search.spec.ts"),
    (MOBILE, "auth/login.spec.ts::Login › logs in with valid credentials", "failure", "Error",
     TO_HAVE_TEXT, "tests/auth/login.spec.ts:23", "tests/auth/login.spec.ts"),
    (MOBILE, "checkout/order.spec.ts::Checkout › places an order", "failure", "Error",
     TO_HAVE_TEXT, "tests/checkout/order.spec.ts:24", "tests/checkout/order.spec.ts"),
    (MOBILE, "checkout/order.spec.ts::Checkout › with an empty cart › warns before checkout", "failure",
     "Error", TO_BE_VISIBLE, "tests/checkout/order.spec.ts:32", "tests/checkout/order.spec.ts"),
    (MOBILE, "search.spec.ts::Search › shows an empty state for unknown terms", "failure", "Error",
     TO_HAVE_TEXT, "tests/search.spec.ts:24", "tests/search.spec.ts"),
    (MOBILE, "search.spec.ts::Search › sorts results by price", "failure", "UnexpectedPass",
     EXPECTED_TO_FAIL, "tests/search.spec.ts:37", "tests/search.spec.ts"),
    (MOBILE, "search.spec.ts::Search › loads more results", "error", "TimeoutError",
     TIMEOUT, "tests/search.spec.ts:49", "tests/search.spec.ts"),
    (MOBILE, "search.spec.ts::Site header › shows the main navigation links", "failure", "Error",
     TO_BE_VISIBLE, "tests/search.spec.ts:58", "tests/search.spec.ts"),
]  # fmt: skip


def test_playwright_run1_gives_its_11_failures_and_4_errors_and_not_the_flaky_test() -> None:
    failures = parse_junit(PLAYWRIGHT / "junit.xml")
    assert [summary(f) for f in failures] == PLAYWRIGHT_RUN1
    assert [f.outcome for f in failures].count("failure") == 11
    assert [f.outcome for f in failures].count("error") == 4


def test_playwright_run2_gives_its_11_failures_and_2_errors() -> None:
    failures = parse_junit(PLAYWRIGHT / "junit-run2.xml")
    assert [summary(f) for f in failures] == PLAYWRIGHT_RUN2


def test_playwright_run_that_failed_to_load_is_an_empty_report() -> None:
    assert parse_junit(PLAYWRIGHT / "junit-load-error.xml") == []


@pytest.mark.parametrize(
    ("json_report", "junit_report"), [("report.json", "junit.xml"), ("report-run2.json", "junit-run2.xml")]
)
def test_playwright_junit_agrees_with_the_json_report_of_the_same_run(
    json_report: str, junit_report: str
) -> None:
    """The same failures read from either report carry the same evidence, so they dedup alike."""
    from_json = {(f.project, f.title): f for f in load_playwright_report(PLAYWRIGHT / json_report)}
    from_junit = parse_junit(PLAYWRIGHT / junit_report)
    assert from_junit
    for f in from_junit:
        twin = from_json[(f.project, f.title)]
        assert (
            f.exception_type,
            f.message,
            f.frames,
            f.file,
            f.count,
            f.attempts,
            f.timed_out,
            f.screenshot,
        ) == (
            twin.exception_type,
            twin.message,
            tuple(fr for fr in twin.frames),
            twin.file,
            twin.count,
            twin.attempts,
            twin.timed_out,
            twin.screenshot,
        ), f.title


def test_playwright_junit_keeps_only_the_last_retry_and_counts_attempts() -> None:
    failures = parse_junit(PLAYWRIGHT / "junit.xml")
    [login] = [f for f in failures if f.project == DESKTOP and "wrong password" in f.title]
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
    assert (login.count, login.attempts) == (2, 2)
    assert login.title == "Login › shows an error for a wrong password"
    assert login.test_path == ("Login", "shows an error for a wrong password")
    assert login.first_seen == "2026-11-24T06:50:28.638Z"
    assert login.screenshot == (
        "test-results/auth-login-Login-shows-an-error-for-a-wrong-password-chromium-retry1/test-failed-1.png"
    )


# --- pytest, jest, surefire, nested suites --------------------------------------------------

PYTEST_LONG = [
    (None, "tests.test_calc::test_add", "failure", "AssertionError", "assert 3 == 4",
     "tests/test_calc.py:7", "tests/test_calc.py"),
    (None, "tests.test_calc::test_parse_price_accepts_plain_numbers", "failure", "ValueError",
     "not a price: '36.99'", "src/calc.py:7", "tests/test_calc.py"),
    (None, "tests.test_calc::test_uses_broken_fixture", "error", "RuntimeError",
     "database is not reachable", "tests/test_calc.py:25", "tests/test_calc.py"),
]  # fmt: skip
PYTEST_NATIVE = [
    (None, "tests.test_calc::test_add", "failure", "AssertionError", "assert 3 == 4",
     "tests/test_calc.py:7 in test_add", "tests/test_calc.py"),
    (None, "tests.test_calc::test_parse_price_accepts_plain_numbers", "failure", "ValueError",
     "not a price: '36.99'", "src/calc.py:7 in parse_price", "tests/test_calc.py"),
    (None, "tests.test_calc::test_uses_broken_fixture", "error", "RuntimeError",
     "database is not reachable", "tests/test_calc.py:25 in broken", "tests/test_calc.py"),
]  # fmt: skip
JEST = [
    (None, "Cart adds two prices::Cart adds two prices", "failure", "Error", TO_BE,
     "src/cart.test.js:5 in Object.toBe", "src/cart.test.js"),
    (None, "Cart finds the line for a SKU::Cart finds the line for a SKU", "failure", "TypeError",
     "Cannot read properties of undefined (reading 'label')", "src/cart.js:5 in lineFor", "src/cart.test.js"),
]  # fmt: skip
JEST_FILE_ATTR = [
    (None, "Cart::adds two prices", "failure", "Error", TO_BE,
     "src/cart.test.js:5 in Object.toBe", "src/cart.test.js"),
    (None, "Cart::finds the line for a SKU", "failure", "TypeError",
     "Cannot read properties of undefined (reading 'label')", "src/cart.js:5 in lineFor", "src/cart.test.js"),
]  # fmt: skip
SUREFIRE = [
    (None, "com.example.shop.CartTest::totalOfTwoItems", "failure", "org.opentest4j.AssertionFailedError",
     "expected: <36.99> but was: <36.0>", "AssertionFailureBuilder.java:151 in AssertionFailureBuilder.build",
     "com/example/shop/CartTest.java"),
    (None, "com.example.shop.CartTest::removeLine", "error", "java.lang.NullPointerException",
     'Cannot invoke "com.example.shop.Line.sku()" because "line" is null',
     "com/example/shop/Cart.java:58 in Cart.remove", "com/example/shop/CartTest.java"),
    (None, "com.example.shop.CartTest::appliesDiscount", "flaky", "java.lang.AssertionError",
     "discount not applied yet", "com/example/shop/CartTest.java:52 in CartTest.appliesDiscount",
     "com/example/shop/CartTest.java"),
]  # fmt: skip
NESTED = [
    (None, "api.orders.OrderSpec::rejects an empty order", "failure", "AssertionError",
     "expected 400, got 500", "", ""),
    (None, "worker::drains the queue", "error", "KeyError", "'queue'", "", ""),
]  # fmt: skip


@pytest.mark.parametrize(
    ("report", "expected"),
    [
        ("pytest-long.xml", PYTEST_LONG),
        ("pytest-native-xunit1.xml", PYTEST_NATIVE),
        ("jest-junit.xml", JEST),
        ("jest-junit-file-attr.xml", JEST_FILE_ATTR),
        ("surefire.xml", SUREFIRE),
        ("nested-suites.xml", NESTED),
    ],
)
def test_dialects(report: str, expected: list[tuple[Any, ...]]) -> None:
    assert [summary(f) for f in parse_junit(JUNIT / report)] == expected


def test_pytest_long_format_message_is_the_error_lines_and_frames_are_crash_first() -> None:
    [_, price, _] = parse_junit(JUNIT / "pytest-long.xml")
    assert price.message == "not a price: '36.99'"
    assert [(f.path, f.lineno) for f in price.frames] == [("src/calc.py", 7), ("tests/test_calc.py", 11)]
    assert price.title == "tests.test_calc.test_parse_price_accepts_plain_numbers"
    assert price.project is None  # pytest's hostname is a machine, not a project


def test_pytest_native_traceback_marks_site_packages_as_not_in_app() -> None:
    [add, _, _] = parse_junit(JUNIT / "pytest-native-xunit1.xml")
    in_app = [(f.path, f.function, f.module) for f in add.frames if f.in_app]
    assert in_app == [("tests/test_calc.py", "test_add", "tests.test_calc")]
    assert len(add.frames) == 20  # 19 pytest/pluggy frames, then the test
    assert add.frames[1].path == ""
    assert "site-packages/_pytest" in add.frames[1].abs_path
    assert add.message == "assert 3 == 4\n +  where 3 = add(1, 2)"


def test_jest_frames_are_relative_to_the_folder_holding_node_modules() -> None:
    [_, sku] = parse_junit(JUNIT / "jest-junit.xml")
    assert [(f.path, f.function, f.in_app) for f in sku.frames[:3]] == [
        ("src/cart.js", "lineFor", True),
        ("src/cart.test.js", "Object.lineFor", True),
        ("", "Promise.then.completed", False),
    ]
    assert sku.title == "Cart finds the line for a SKU"


def test_surefire_skips_and_passes_are_ignored_and_vendor_frames_are_not_in_app() -> None:
    total, remove, flaky = parse_junit(JUNIT / "surefire.xml")
    assert [f.in_app for f in total.frames] == [False, False, False, True, False]
    assert total.frames[3].module == "com.example.shop.CartTest"
    assert remove.frames[-1].module == "jdk.internal.reflect.DirectMethodHandleAccessor"
    assert (flaky.count, flaky.attempts) == (1, 2)


def test_repo_root_anchors_absolute_paths(tmp_path: Path) -> None:
    report = tmp_path / "r.xml"
    report.write_text(
        "<testsuite><testcase classname='x' name='y'><failure>TypeError: nope\n"
        f"    at render ({tmp_path}/web/app.js:3:4)</failure></testcase></testsuite>",
        encoding="utf-8",
    )
    [failure] = parse_junit(report, repo_root=tmp_path)
    assert failure.frames[0].path == "web/app.js"
    assert failure.file == "web/app.js"


# --- hostile and broken files ---------------------------------------------------------------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<testsuites><testsuite><testcase name="a"><failure>&lol3;</failure></testcase></testsuite></testsuites>
"""
XXE = """<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<testsuite><testcase name="a"><failure>&xxe;</failure></testcase></testsuite>
"""
REFUSED = "XML with a DTD or entity declaration is refused"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (BILLION_LAUGHS, REFUSED),
        (XXE, REFUSED),
        ('<!doctype testsuite SYSTEM "http://127.0.0.1:1/x.dtd"><testsuite/>', REFUSED),
        ("<testsuites>\n<testsuite name='a'>\n<testcase name='x'>\n</testsuite></testsuites>",
         "malformed XML at line 4 column 3: mismatched tag"),
        ("<testsuite><testcase name='a'><failure>&undefined;</failure></testcase></testsuite>",
         "malformed XML at line 1 column 40: undefined entity"),
        ("<testsuite>", "malformed XML at line 1 column 12: no element found"),
        ("<html><body/></html>", "not JUnit XML: the root element is <html>, expected <testsuites>"),
        ("  \n", "file is empty, expected JUnit XML"),
    ],
)  # fmt: skip
def test_hostile_or_broken_xml_is_an_input_error_naming_the_file(
    text: str, problem: str, tmp_path: Path
) -> None:
    report = tmp_path / "junit.xml"
    report.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        parse_junit(report)
    assert caught.value.path == str(report)
    assert caught.value.problem.startswith(problem)


def test_missing_and_oversized_files_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        parse_junit(tmp_path / "nope.xml")
    big = tmp_path / "big.xml"
    big.write_text("<testsuite>" + " " * 200 + "</testsuite>", encoding="utf-8")
    with pytest.raises(InputError, match="larger than the limit"):
        parse_junit(big, max_bytes=100)


def test_deep_nesting_does_not_exhaust_the_stack() -> None:
    depth = 20_000
    text = (
        "<testsuites>" + "<testsuite name='s'>" * depth
        + "<testcase classname='c' name='n'><failure>Error: boom</failure></testcase>"
        + "</testsuite>" * depth + "</testsuites>"
    )  # fmt: skip
    [failure] = parse_junit_text(text, "deep.xml")
    assert (failure.item_id, failure.message) == ("c::n", "boom")


def test_absurdly_long_message_is_truncated_with_a_marker() -> None:
    body = "x" * (2 * MAX_MESSAGE_CHARS)
    text = f"<testsuite><testcase classname='c' name='n'><failure>{body}</failure></testcase></testsuite>"
    [failure] = parse_junit_text(text, "long.xml")
    assert failure.message == "x" * MAX_MESSAGE_CHARS + f"\n… [truncated {MAX_MESSAGE_CHARS:,} characters]"


def test_ansi_codes_in_junit_text_are_stripped() -> None:
    text = (
        "<testsuite><testcase classname='c' name='n'><failure>"
        "Error: \x1b[2mexpect(\x1b[22mreceived).toBe(expected)\n    at /app/x.test.js:1:2"
        "</failure></testcase></testsuite>"
    )
    [failure] = parse_junit_text(text, "ansi.xml")
    assert failure.message == "expect(received).toBe(expected)"


def test_colour_codes_written_as_character_references_are_removed() -> None:
    text = (
        "<testsuite><testcase classname='c' name='n'><failure>"
        "Error: &#27;[31mboom&#x1b;[39m</failure></testcase></testsuite>"
    )
    [failure] = parse_junit_text(text, "ansi.xml")
    assert failure.message == "boom"


def test_message_lines_that_look_like_pytest_error_lines_are_kept_elsewhere() -> None:
    text = (
        "<testsuite><testcase classname='c' name='n'><failure>Error: request failed\n"
        "E 404 not found\n    at get (/app/node_modules/x/index.js:1:2)</failure></testcase></testsuite>"
    )
    [failure] = parse_junit_text(text, "e.xml")
    assert failure.message == "request failed\nE 404 not found"


def test_a_case_without_any_name_gets_a_readable_title_and_normalizes(tmp_path: Path) -> None:
    from selfheal.cli import main

    report = JUNIT.parent / "runners" / "empty-name.xml"
    titles = [f.title for f in parse_junit(report)]
    assert titles == [
        "pytest (unnamed test at tests/test_import.py:3)",  # suite, then the file and line it names
        "unnamed test in tests.test_checkout",
        "unnamed test in pytest",
    ]
    assert main(["normalize", "junit", str(report), "--out", str(tmp_path)]) == 0
    alone = JUNIT.parent / "runners" / "empty-name-alone.xml"
    assert main(["normalize", "junit", str(alone), "--out", str(tmp_path)]) == 0  # was a contract traceback
