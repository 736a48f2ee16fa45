"""The one text-shaping policy of the sources: how an error text's type is split off, and how
long a message may be."""

from __future__ import annotations

import pytest

from selfheal.records import as_dict, as_list, as_text
from selfheal.sources.stacktext import MAX_MESSAGE_CHARS, cap_message, split_type


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "TypeError: Cannot read properties of undefined",
            ("TypeError", "Cannot read properties of undefined"),
        ),
        (
            "Error: expect(locator).toHaveText(expected) failed",
            ("Error", "expect(locator).toHaveText(expected) failed"),
        ),
        ("AssertionError [ERR_ASSERTION]: 1 == 2", ("AssertionError", "1 == 2")),
        (
            "java.lang.AssertionError:\nexpected:<3> but was:<4>",
            ("java.lang.AssertionError", "expected:<3> but was:<4>"),
        ),
        ("java.lang.AssertionError:", ("java.lang.AssertionError", "")),
        (
            "System.InvalidOperationException : cart is closed",
            ("System.InvalidOperationException", "cart is closed"),
        ),
        ("ComparisonFailure: expected", ("ComparisonFailure", "expected")),
        ("AssertionFailed: x", ("AssertionFailed", "x")),
        ("Error: \nthe message below", ("Error", "the message below")),
        # Runner labels and plain text name no type.
        ("locator.click: Timeout 30000ms exceeded.", ("", "locator.click: Timeout 30000ms exceeded.")),
        ("page.goto: net::ERR_CONNECTION_REFUSED", ("", "page.goto: net::ERR_CONNECTION_REFUSED")),
        ("Test timeout of 5000ms exceeded.", ("", "Test timeout of 5000ms exceeded.")),
        ("FAILURE: total is wrong", ("", "FAILURE: total is wrong")),
        ("ErrorCount: 3", ("", "ErrorCount: 3")),
        ("", ("", "")),
    ],
)
def test_split_type_reads_the_type_only_when_it_names_an_error(text: str, expected: tuple[str, str]) -> None:
    assert split_type(text) == expected


def test_cap_message_keeps_a_message_up_to_the_cap_and_marks_a_cut() -> None:
    at_cap = "x" * MAX_MESSAGE_CHARS
    assert cap_message(at_cap) == at_cap
    assert cap_message(at_cap + "yz") == at_cap + "\n… [truncated 2 characters]"
    assert cap_message("é" * (MAX_MESSAGE_CHARS + 1234)).endswith("\n… [truncated 1,234 characters]")


@pytest.mark.parametrize("value", [None, 0, 1.5, True, "text", [1], {"a": 1}])
def test_coercers_read_a_value_of_another_kind_as_empty(value: object) -> None:
    assert as_dict(value) == (value if isinstance(value, dict) else {})
    assert as_list(value) == (value if isinstance(value, list) else [])
    assert as_text(value) == (value if isinstance(value, str) else "")


def test_coercers_return_the_value_itself() -> None:
    mapping, items = {"k": [1]}, [{"k": 1}]
    assert as_dict(mapping) is mapping
    assert as_list(items) is items
