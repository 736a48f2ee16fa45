"""Error text as the sources read it.

The stack-line patterns JavaScript runners print (Playwright, jest), shared by the Playwright
JSON and JUnit XML sources so both read a stack the same way; and the one text-shaping policy
of the sources: :func:`cap_message` (how long a message may be and how a cut is marked: the
Sentry export, Playwright and JUnit sources) and :func:`split_type` (the exception type at the
start of a test runner's error text: Playwright and JUnit)."""

from __future__ import annotations

import re
from typing import Final

__all__ = [
    "CODE_FRAME",
    "EXPECTED_TO_FAIL",
    "JS_FRAME",
    "MAX_MESSAGE_CHARS",
    "TITLE_SEPARATOR",
    "TYPE_PREFIX",
    "cap_message",
    "split_type",
]

#: How Playwright joins a title path: U+203A, the single right-pointing angle quotation mark.
TITLE_SEPARATOR = " \u203a "
#: What Playwright reports for a ``test.fail`` that passed.
EXPECTED_TO_FAIL = "Expected to fail, but passed."

#: V8 stack lines: ``at fn (file:line:col)``, ``at file:line:col``, ``at async fn (…)``, ``at new Foo (…)``.
JS_FRAME = re.compile(
    r"^\s*at\s+(?:(?P<func>.+?)\s+\((?P<loc>.+?):(?P<line>\d+):(?P<col>\d+)\)"
    r"|(?P<loc2>\S+?):(?P<line2>\d+):(?P<col2>\d+))\s*$"
)
#: Code-frame lines: ``  28 | code``, ``> 30 | code``, ``     |   ^``, and the
#: ``   at helpers/cart.ts:29`` header shown when the error is in another file.
CODE_FRAME = re.compile(r"^\s*(?:>\s*)?\d+\s*\|.*$|^\s+\|.*$|^\s+at [^\s()]+:\d+$")
#: ``TypeError: …``, ``Error: …``, ``AssertionError [ERR_ASSERTION]: …`` on a first line.
TYPE_PREFIX = re.compile(r"^(?P<type>[A-Za-z_$][\w$.]*)(?: \[[\w-]+\])?: ")
#: A type alone on the first line, the message on the lines below (``java.lang.AssertionError:``).
_TYPE_ALONE = re.compile(r"^(?P<type>[A-Za-z_$][\w$.]*):[ \t]*(?:\n|$)")
#: NUnit and xUnit put a space before the colon: ``System.InvalidOperationException : cart is closed``.
_NUNIT_TYPE_PREFIX = re.compile(r"^(?P<type>[A-Za-z_][\w.]*\.[A-Za-z_]\w*) : ")
#: How the last part of a name that :func:`split_type` reads as an exception type ends.
_SPLIT_TYPE_ENDINGS: Final = ("Error", "Exception", "Failure", "Failed")

#: Longer messages are cut (a runaway log line or a hostile report) and marked as cut.
MAX_MESSAGE_CHARS: Final = 64 * 1024


def cap_message(text: str) -> str:
    """``text``, or its first :data:`MAX_MESSAGE_CHARS` characters followed by a line that says
    how many were cut (``… [truncated 1,024 characters]``)."""
    if len(text) <= MAX_MESSAGE_CHARS:
        return text
    cut = len(text) - MAX_MESSAGE_CHARS
    return f"{text[:MAX_MESSAGE_CHARS]}\n… [truncated {cut:,} characters]"


def split_type(text: str) -> tuple[str, str]:
    """``("TypeError", "Cannot read …")`` from ``"TypeError: Cannot read …"``; ``("", text)``
    when the text does not start with an exception type.

    A type is a name whose last dotted part ends in ``Error``, ``Exception``, ``Failure`` or
    ``Failed``, written ``Type: message`` (``AssertionError [ERR_ASSERTION]: …`` too),
    ``Type : message`` (NUnit, xUnit) or alone on the first line with the message on the
    lines below (``java.lang.AssertionError:``); the message then starts at its first line.
    A runner's label (``locator.click: Timeout …``, ``page.goto: net::ERR_…``) is no type.
    """
    match = TYPE_PREFIX.match(text) or _TYPE_ALONE.match(text) or _NUNIT_TYPE_PREFIX.match(text)
    if match and match["type"].rsplit(".", 1)[-1].endswith(_SPLIT_TYPE_ENDINGS):
        return match["type"], text[match.end() :].lstrip("\n")
    return "", text
