"""Patterns for error text that JavaScript test runners print (Playwright, jest), shared by the
Playwright JSON and JUnit XML sources so both read a stack the same way."""

from __future__ import annotations

import re

__all__ = ["CODE_FRAME", "EXPECTED_TO_FAIL", "JS_FRAME", "TITLE_SEPARATOR", "TYPE_PREFIX"]

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
