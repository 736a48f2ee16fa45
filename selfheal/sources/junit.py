"""JUnit XML reports → :class:`~selfheal.records.Failure` records.

One Failure per ``<testcase>`` that has a ``<failure>`` (outcome ``failure``) or an
``<error>`` (outcome ``error``); ``<skipped>`` and passing cases are ignored. Dialects:

- pytest (``classname`` = dotted module, ``file``/``line`` with ``junit_family=xunit1``;
  the text is pytest's long traceback, or a Python traceback with ``--tb=native``);
- jest-junit (``classname`` often = describe + title, optional ``file``; V8 stack);
- Playwright's junit reporter (``classname`` = spec file relative to the testDir,
  ``name`` = "Describe \u203a title", ``hostname`` = project; retries collapsed into
  ``Retry #N`` sections; a flaky test looks like a pass, so it yields nothing here);
- Maven surefire and Gradle (JVM stacks, ``rerunFailure``/``flakyFailure``; frames outside
  the test class's root package are library code);
- unittest, vitest, mocha, Go (go-junit-report, gotestsum, testify), Catch2, GoogleTest,
  PHPUnit, .NET loggers, Dart ``junitreport``, Rust (nextest): each runner's error line becomes
  the message's first line and its frames are read in its syntax (table in docs/sources.md);
- a ``<testsuites>`` root or a bare ``<testsuite>`` root, suites nested or not.

Every path goes through :func:`selfheal.paths.to_repo_path`; a case without a name gets a
readable title from its class, file and line.

Hostile input: the file is read with a size bound, and a document with a DTD (``<!DOCTYPE``
or ``<!ENTITY``: entity expansion "billion laughs", external entities/XXE) is refused before
it reaches the parser. JUnit reports never need a DTD, so refusing is cheaper and safer than
a hardened parser (which is why defusedxml is not a dependency).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Final

from selfheal.errors import InputError
from selfheal.models import Frame
from selfheal.paths import RepoTree, is_vendor_path, to_repo_path
from selfheal.records import Failure, strip_ansi
from selfheal.sources.stacktext import (
    CODE_FRAME,
    EXPECTED_TO_FAIL,
    JS_FRAME,
    TITLE_SEPARATOR,
    cap_message,
    split_type,
)
from selfheal.storage import read_text

__all__ = ["parse_junit", "parse_junit_text"]

#: JUnit files are text reports; anything near this size is not one.
MAX_JUNIT_BYTES: Final = 256 * 1024 * 1024

_ESCAPED_ANSI = re.compile(r"&#(?:27|[xX]0*1[bB]);\[[0-9;?]*[ -/]*[@-~]")
_DTD = re.compile(r"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)

# --- stack line shapes ---
#: Python traceback: ``  File "tests/test_x.py", line 7, in test_add``.
_PY_TRACEBACK = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+)(?:, in (?P<func>.+?))?\s*$')
#: pytest traceback locations: ``tests/test_x.py:7: AssertionError``, ``src/x.py:5: in add``
#: (indented when pytest's output is nested in another report).
_PYTEST_LOCATION = re.compile(
    r"^\s*(?P<path>(?:[A-Za-z]:)?[^\s:][^:]*\.py):(?P<line>\d+):(?: in (?P<func>\S+)| (?P<exc>[\w.]+))?\s*$"
)
#: JVM: ``at com.example.CartTest.total(CartTest.java:17)``.
_JAVA_FRAME = re.compile(r"^\s*at (?P<qual>[\w$.<>/-]+)\((?P<file>[^():]*)(?::(?P<line>\d+))?\)\s*$")
#: What JVM frames have in parentheses (anything else there is a .NET argument list).
_JAVA_FILE = re.compile(
    r"^(?:[\w$.-]+\.(?:java|kt|kts|scala|groovy|clj|aj)|Native Method|Unknown Source|<generated>|)$"
)
#: .NET: ``at Shop.Tests.Steps.Total(Int32 n) in C:\src\Steps.cs:line 26`` (the file part optional).
#: TRX converters join the message and the .NET stack on one line with spaces:
#: ``System.Exception : Test   at Ns.Type.Method() in C:\src\X.cs:line 39``.
_JOINED_DOTNET_FRAME = re.compile(
    r"(?<=\S)[ \t]{2,}(?=at [\w.`<>\[\]]+ ?\([^()\n]*\)(?: in |[ \t]*$))", re.MULTILINE
)
#: Mono writes ``at Ns.Type.Method () [0x00000] in /src/File.cs:121``; localized runtimes write
#: their own words (``bei … in C:\src\Steps.cs:Zeile 18.``, ``à … dans …:ligne 18``).
_DOTNET_FRAME = re.compile(
    r"^\s*(?:at|bei|à|en|em|в|w|bij|vid|場所|在)\s+(?P<qual>[^\s(]+) ?\((?P<args>[^)]*)\)"
    r"(?: \[0x[0-9a-fA-F]+\])?"
    r"(?:\s+(?:in|dans|en|na|em|в|w|i|位置|場所)\s+(?P<file>.+?):(?:[^\W\d_]+ ?)?(?P<line>\d+)\.?)?\s*$"
)
#: vitest: ``❯ src/cart.test.ts:5:17`` or ``❯ total src/cart.ts:12:9``.
_VITEST_FRAME = re.compile(r"^\s*\u276f\s+(?:(?P<func>\S+)\s+)?(?P<loc>\S+?):(?P<line>\d+):(?P<col>\d+)\s*$")
#: Dart (package:test, ``junitreport``): ``test/calc_test.dart 8:5  main.<fn>``, ``package:matcher  expect``.
_DART_FRAME = re.compile(
    r"^(?P<path>(?:package:|dart:)?[\w./@-]+\.dart|package:[\w./-]+|dart:[\w/]+)"
    r"(?: (?P<line>\d+)(?::(?P<col>\d+))?)?\s{2,}(?P<func>\S.*?)\s*$"
)
#: Rust (cargo nextest, cargo2junit): ``thread 'tests::total' panicked at src/cart.rs:10:5:`` with
#: the message on the next lines, or before 1.73 ``panicked at 'message', src/cart.rs:10:5``.
_RUST_PANIC = re.compile(
    r"^\s*thread '[^']*' panicked at (?:'(?P<msg>.*)', )?(?P<path>[^\s:']+\.rs):(?P<line>\d+):\d+:?\s*$"
)
#: Go's ``t.Errorf`` lines: ``    calc_test.go:12: expected 3, got 4``.
_GO_LOCATION = re.compile(r"^\s+(?P<path>[\w.-]+\.go):(?P<line>\d+): (?P<msg>.*)$")
#: A line naming a file and line (PHPUnit, GoogleTest, Catch2, Go panics, gcc-style):
#: ``/app/tests/CalcTest.php:14``, ``at tests/test.cpp:12``, ``foo_test.cc(12): error``.
_LOCATION_LINE = re.compile(
    r"^\s*(?:at\s+)?(?P<path>(?:[A-Za-z]:)?[^\s:()\[\]]*[^\s:()/\[\]]\.[A-Za-z][A-Za-z0-9+]{0,7})"
    r"(?::(?P<line>\d+)(?::\d+)?|\((?P<line2>\d+)\))(?::?\s+(?P<rest>.*?))?:?\s*$"
)
#: Lines that are never the error: headers, separators and labels runners print around it.
_NOT_A_MESSAGE = re.compile(
    r"^\s*(?:Traceback \(most recent call last\):|FAILED:|=== (?:RUN|PAUSE|CONT|NAME)\b.*"
    r"|--- (?:FAIL|PASS|SKIP): .*|self = <.*>|goroutine \d+ \[.*\]:|\.\.\. ?\d+ more"
    r"|--- End of .* ---|(?:Stack ?[Tt]race|Error Message|Failure Message|Call Stack):?"
    r"|---- \S+ std(?:out|err) ----|note: run with `RUST_BACKTRACE=1`.*"
    r"|_{3,}.*_{3,}|[-=]{5,}"
    # Mono's frames without a method: ``at <0x00000> <unknown method>``, ``at (wrapper …) …``
    r"|at <0x[0-9a-fA-F]+> <unknown method>|at \(wrapper [^)]*\) .*)\s*$"
)
#: (some reporters re-indent pytest's output and squeeze ``E   `` to ``E ``)
_INDENTED_PYTEST_ERROR = re.compile(r"^\s+E(?:\s|$)")
#: PHPUnit's first failure line: ``Tests\Unit\CalcTest::testAdd`` (``with data set #0`` optional).
_PHPUNIT_TEST_ID = re.compile(r"^[\w\\]+::\w+(?: with data set .*)?$")
_JVM_VENDOR = re.compile(
    r"^(?:java|javax|jdk|sun|com\.sun|kotlin|kotlinx|scala|groovy|junit|org\.junit|org\.opentest4j"
    r"|org\.apache|org\.testng|org\.springframework|org\.hamcrest|org\.jboss|org\.assertj|org\.mockito"
    r"|org\.gradle|worker\.org\.gradle|org\.codehaus|org\.spockframework|org\.robolectric|org\.eclipse"
    r"|org\.hibernate|org\.slf4j|ch\.qos|io\.kotest|io\.mockk|io\.netty|io\.quarkus|io\.micronaut"
    r"|io\.restassured|org\.awaitility|com\.fasterxml|com\.google\.common|reactor|okhttp3|retrofit2"
    r"|android|androidx|dalvik|com\.android|com\.google\.android|libcore)\."
)
_DOTNET_VENDOR = re.compile(
    r"^(?:System|Microsoft|Xunit|NUnit|Moq|FluentAssertions|Castle|NSubstitute|Shouldly|TechTalk"
    r"|Reqnroll|Polly|Newtonsoft|AutoFixture|Bunit)\."
)
#: First package segments of reverse-domain names (``com.example``): the root is two segments.
_REVERSE_DOMAINS = frozenset(
    re.findall(
        r"\w+",
        "com org net io de fr uk nl ch se no dk fi be at it es pl cz ru cn jp kr br au ca us eu me dev "
        "app co edu gov info biz tech ai",
    )
)
#: Playwright's header line: ``[chromium] \u203a auth/login.spec.ts:26:3 \u203a Login \u203a …``.
_PLAYWRIGHT_HEADER = re.compile(
    r"^\s*(?:\d+\) )?(?:\[(?P<project>[^\]]+)\] \u203a )?\S+:(?P<line>\d+):\d+ \u203a ", re.MULTILINE
)
_PLAYWRIGHT_RETRY = re.compile(r"^\s*Retry #\d+ \u2500+\s*$")
_PLAYWRIGHT_ATTACHMENT = re.compile(r"^\s*attachment #\d+: .*\u2500+\s*$")
_RULE = re.compile(r"^\s*\u2500+\s*$")
_ATTACHMENT_MARKER = re.compile(r"\[\[ATTACHMENT\|(?P<path>[^\]]+)\]\]")
_JS_EXTENSIONS = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts")


def parse_junit(
    path: str | Path,
    *,
    repo_root: Path | None = None,
    tree: RepoTree | None = None,
    max_bytes: int = MAX_JUNIT_BYTES,
) -> list[Failure]:
    """Failures in a JUnit XML file, in document order.

    Raises :class:`InputError` naming the file when it is missing, too large, not UTF-8, has
    a DTD, is not well-formed XML, or is not JUnit (root neither testsuites nor testsuite).
    """
    return parse_junit_text(read_text(path, max_bytes=max_bytes), path, repo_root=repo_root, tree=tree)


def parse_junit_text(
    text: str, path: str | Path, *, repo_root: Path | None = None, tree: RepoTree | None = None
) -> list[Failure]:
    """:func:`parse_junit` on text already read (``path`` names it in errors)."""
    if not text.strip():
        raise InputError(path, "file is empty, expected JUnit XML")
    if _DTD.search(text):
        raise InputError(
            path,
            "XML with a DTD or entity declaration is refused "
            "(entity expansion and external entities are attacks, and JUnit needs neither)",
        )
    # Some runners leave colour codes in the text, raw or as character references: both are
    # invalid XML 1.0 (control characters), and never meaningful, so they go before parsing.
    text = _ESCAPED_ANSI.sub("", strip_ansi(text))
    try:
        root = ET.fromstring(text)  # noqa: S314 -- no DTD can be present (checked above)
    except ET.ParseError as exc:
        line, column = exc.position
        detail = str(exc).split(":", 1)[0]
        raise InputError(path, f"malformed XML at line {line} column {column + 1}: {detail}") from exc
    if _local(root.tag) not in ("testsuites", "testsuite"):
        raise InputError(
            path,
            f"not JUnit XML: the root element is <{_local(root.tag)}>, expected <testsuites> or <testsuite>",
        )
    # Playwright's reporter writes ``<testsuites id="" name="">`` and `` › `` headers: vitest
    # and others also name suites after spec files and write a hostname, but neither of these.
    playwright = root.get("id") is not None or bool(_PLAYWRIGHT_HEADER.search(text))
    cases = list(_cases(root, playwright=playwright))
    anchors = _Anchors.infer(cases, repo_root, tree)
    failures = []
    for index, case in enumerate(cases):
        failure = _case_failure(case, anchors, index)
        if failure is not None:
            failures.append(failure)
    return failures


# --- document walk --------------------------------------------------------------------------


def _local(tag: str) -> str:
    """Tag name without a namespace (``{ns}testsuite`` → ``testsuite``)."""
    return tag.rsplit("}", 1)[-1]


@dataclass(frozen=True, slots=True)
class _Case:
    element: ET.Element
    suite: ET.Element | None
    playwright_document: bool = False

    def attr(self, name: str) -> str:
        return (self.element.get(name) or "").strip()

    def suite_attr(self, name: str) -> str:
        return (self.suite.get(name) or "").strip() if self.suite is not None else ""

    def children(self, *names: str) -> list[ET.Element]:
        return [child for child in self.element if _local(child.tag) in names]

    @property
    def is_playwright(self) -> bool:
        """Playwright's junit: classname is the spec file (relative to testDir) and equals the
        suite name, which carries the project as ``hostname`` (``hostname=""`` for a single
        unnamed project)."""
        classname = self.attr("classname")
        return (
            self.playwright_document
            and classname.endswith(_JS_EXTENSIONS)
            and classname == self.suite_attr("name")
            and self.suite is not None
            and self.suite.get("hostname") is not None
        )

    def file_attr(self) -> str:
        """The ``file`` the case (or, for mocha and PHPUnit, its suite) names."""
        return (self.attr("file") or self.suite_attr("file")).replace("\\", "/")


def _cases(root: ET.Element, *, playwright: bool) -> Iterator[_Case]:
    """Every ``<testcase>`` in document order, with its nearest ``<testsuite>`` (iterative, so
    a hostile nesting depth cannot exhaust the stack)."""
    suite = root if _local(root.tag) == "testsuite" else None
    pending: list[tuple[Iterator[ET.Element], ET.Element | None]] = [(iter(root), suite)]
    while pending:
        children, suite = pending[-1]
        child = next(children, None)
        if child is None:
            pending.pop()
            continue
        tag = _local(child.tag)
        if tag == "testcase":
            yield _Case(child, suite, playwright)
        elif tag in ("testsuite", "testsuites"):
            pending.append((iter(child), child if tag == "testsuite" else suite))


# --- paths ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Anchors:
    """Folders (on the machine that ran the tests) that repository paths are relative to."""

    bases: tuple[str, ...]
    playwright_test_dir: str | None = None
    """Playwright's testDir relative to the repository (``tests``), when the report shows it."""
    tree: RepoTree | None = None

    @classmethod
    def infer(cls, cases: Sequence[_Case], repo_root: Path | None, tree: RepoTree | None = None) -> _Anchors:
        """Find the project folder from the report itself: an absolute frame path ending in a
        known relative test file (``file`` attribute, a dotted classname, Playwright's spec
        path corrected by its ``../`` attachment paths), or the folder holding ``node_modules``."""
        found: dict[str, None] = {}
        test_dir: str | None = None
        if repo_root is not None:
            found[repo_root.resolve().as_posix()] = None
        for case in cases:
            for body in case.children("failure", "error"):
                text = strip_ansi(body.text or "")
                absolute = [m for line in text.splitlines() if (m := _absolute_location(line))]
                for known, levels_up in _known_relative_paths(case, text):
                    for location in absolute:
                        if location.endswith("/" + known):
                            base = location[: -len(known) - 1]
                            for _ in range(levels_up):
                                base = str(PurePosixPath(base).parent)
                            found.setdefault(base, None)
                            if case.is_playwright and test_dir is None:
                                rel = PurePosixPath(location[: -len(known) - 1]).relative_to(base)
                                test_dir = rel.as_posix()
                for location in absolute:
                    if "/node_modules/" in location:
                        found.setdefault(location.split("/node_modules/", 1)[0], None)
        return cls(tuple(found), test_dir, tree)

    def playwright_spec_path(self, spec_file: str) -> str:
        """Repository path of a spec file named relative to Playwright's testDir."""
        if self.playwright_test_dir in (None, "", "."):
            return spec_file
        return f"{self.playwright_test_dir}/{spec_file}"

    def repo_path(self, raw: str) -> str:
        """The cleaned repository path (:func:`~selfheal.paths.to_repo_path`), relative to the
        project folder this report shows; '' when ``raw`` is not a file path."""
        return to_repo_path(raw, strip_prefixes=self.bases, tree=self.tree)


def _absolute_location(line: str) -> str | None:
    """The absolute file path of a stack line, if it has one."""
    for pattern, group in ((_PY_TRACEBACK, "path"), (JS_FRAME, "loc")):
        match = pattern.match(line)
        if match:
            location = match[group] or (match["loc2"] if pattern is JS_FRAME else None)
            location = (location or "").removeprefix("file://")
            return location if location.startswith("/") else None
    return None


def _known_relative_paths(case: _Case, text: str) -> Iterator[tuple[str, int]]:
    """Relative paths a case names, each with how many folders up the repository root is."""
    file_attr = case.file_attr().removeprefix("./")
    if file_attr and not file_attr.startswith("/"):
        yield file_attr, 0
    classname = case.attr("classname")
    if case.is_playwright:
        # Attachment paths are relative to the junit file's folder in <system-out> and to the
        # testDir in the failure text: the number of ``../`` between them is how far up it is.
        yield classname, _levels_between_report_and_test_dir(case, text)
    elif re.fullmatch(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+", classname):
        parts = classname.split(".")
        for end in range(len(parts), 0, -1):  # tests.test_calc.TestCart → tests/test_calc.py
            yield "/".join(parts[:end]) + ".py", 0


def _levels_between_report_and_test_dir(case: _Case, text: str) -> int:
    system_out = "".join(el.text or "" for el in case.children("system-out"))
    for marker in _ATTACHMENT_MARKER.finditer(system_out):
        attachment = marker["path"].strip()
        match = re.search(r"((?:\.\./)+)" + re.escape(attachment), text)
        if match:
            return match[1].count("../")
    return 1  # the usual layout: playwright.config.ts next to the tests/ folder


# --- frames ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Stack:
    message_lines: tuple[str, ...]
    frames: tuple[Frame, ...]
    lines: tuple[str, ...]
    crash_type: str = ""
    """Exception type named by pytest's location line (``tests/x.py:7: AssertionError``)."""


@dataclass(slots=True)
class _TextReader:
    """Reads one failure body line by line, whatever runner wrote it (see the module docstring)."""

    anchors: _Anchors
    go_package_dir: str = ""
    own_package: str = ""
    """The test class's root package: JVM and .NET frames outside it are library code."""
    managed: list[int] = field(default_factory=list)
    """Indices of JVM and .NET frames in :attr:`frames`."""
    message: list[str] = field(default_factory=list)
    frames: list[Frame] = field(default_factory=list)
    """Frames in the order the runner prints them (crash first for JVM, .NET, JS, Dart)."""
    stack_lines: list[str] = field(default_factory=list)
    python_frames: list[Frame] = field(default_factory=list)  # tracebacks list the crash last
    pytest_frames: list[Frame] = field(default_factory=list)
    python_lines: list[str] = field(default_factory=list)
    pytest_error_lines: list[str] = field(default_factory=list)
    location_lines: list[str] = field(default_factory=list)
    """Messages of ``path:line: message`` lines (Go's ``t.Errorf``), the runner's error lines."""
    crash_type: str = ""
    in_stack: bool = False
    """A stack has started: later plain lines are no longer the message."""

    def read(self, text: str) -> _Stack:
        lines = list(_dedent(text.splitlines()))  # pytest's output nested in another report is indented
        for index, line in enumerate(lines):
            self._line(line, lines[index + 1] if index + 1 < len(lines) else "")
        if self.pytest_frames or (self.pytest_error_lines and not self.frames and not self.python_frames):
            # pytest's long format: the source is shown, the error lines start with ``E``.
            message = list(_dedent(self.pytest_error_lines)) or self.message
            frames = [*reversed(self.pytest_frames), *reversed(self.python_frames)]
            return _Stack(tuple(message), tuple(frames), tuple(reversed(self.python_lines)), self.crash_type)
        if self.python_frames:
            exc_lines = _python_exception_lines(text)
            return _Stack(
                exc_lines or tuple(self.message),
                (*reversed(self.python_frames), *self.frames),
                tuple(reversed(self.python_lines)),
            )
        message = _testify_message(self.location_lines) or self.location_lines or self.message
        return _Stack(tuple(message), self._own_code_first(), tuple(self.stack_lines))

    def _own_code_first(self) -> tuple[Frame, ...]:
        """JVM and .NET frames outside the test's own root package are not in-app, when some
        frame is in it (so a class name that says nothing keeps the vendor lists' verdict)."""
        root = self.own_package
        managed = [self.frames[i] for i in self.managed]
        if not root or not any(_in_package(f.module, root) for f in managed):
            return tuple(self.frames)
        out = list(self.frames)
        for i in self.managed:
            if not _in_package(out[i].module, root):
                out[i] = replace(out[i], in_app=False, path="")
        return tuple(out)

    def _line(self, line: str, following: str) -> None:
        anchors = self.anchors
        if match := _PY_TRACEBACK.match(line):
            self.python_frames.append(
                _python_frame(match["path"], int(match["line"]), match["func"] or "", anchors)
            )
            self.python_lines.append(line.strip())
            self.in_stack = True
        elif match := _PYTEST_LOCATION.match(line):
            self.pytest_frames.append(
                _python_frame(match["path"], int(match["line"]), match["func"] or "", anchors)
            )
            self.python_lines.append(line.strip())
            self.crash_type = match["exc"] or self.crash_type
        elif match := JS_FRAME.match(line):
            location = match["loc"] or match["loc2"]
            function = (match["func"] or "").removeprefix("async ").strip()
            self._add(_js_frame(location, int(match["line"] or match["line2"]), function, anchors), line)
        elif match := _VITEST_FRAME.match(line):
            self._add(_js_frame(match["loc"], int(match["line"]), match["func"] or "", anchors), line)
        elif (match := _JAVA_FRAME.match(line)) and _JAVA_FILE.match(match["file"]):
            self.managed.append(len(self.frames))
            self._add(_java_frame(match["qual"], match["file"], match["line"], anchors), line)
        elif match := _DOTNET_FRAME.match(line):
            self.managed.append(len(self.frames))
            self._add(_dotnet_frame(match["qual"], match["file"] or "", match["line"], anchors), line)
        elif match := _DART_FRAME.match(line):
            lineno = int(match["line"]) if match["line"] else None
            self._add(_generic_frame(match["path"], lineno, match["func"] or "", anchors), line)
        elif CODE_FRAME.match(line):
            return  # a code frame (``> 30 | …``) or its ``at helpers/cart.ts:29`` header
        elif match := _RUST_PANIC.match(line):
            self.frames.append(_generic_frame(match["path"], int(match["line"]), "", anchors))
            self.stack_lines.append(line.strip())
            if match["msg"]:
                self.location_lines.append(match["msg"])
        elif match := _GO_LOCATION.match(line):
            path = f"{self.go_package_dir}/{match['path']}" if self.go_package_dir else match["path"]
            self.frames.append(_generic_frame(path, int(match["line"]), "", anchors))
            self.stack_lines.append(line.strip())
            self.location_lines.append(match["msg"])
        elif match := _LOCATION_LINE.match(line):
            lineno = int(match["line"] or match["line2"])
            self.frames.append(_generic_frame(match["path"], lineno, "", anchors))
            self.stack_lines.append(line.strip())
            rest = (match["rest"] or "").strip()
            if rest and not rest.startswith(("in ", "+0x")) and rest != "Failure" and not self.in_stack:
                self.message.append(rest)
        elif line.startswith("E ") or line == "E" or _INDENTED_PYTEST_ERROR.match(line):
            # pytest's error lines (indented when nested in another tool's output), used if
            # pytest frames follow
            self.pytest_error_lines.append(line.lstrip()[1:])
            if not self.frames:
                self.message.append(line)
        elif _NOT_A_MESSAGE.match(line):
            return
        elif self.python_frames and line.startswith((" ", "\t")):
            return  # the source line under a ``File "…"`` line
        elif self.go_package_dir and self.location_lines and line.startswith(("        ", "\t\t")):
            self.location_lines.append(line.strip())  # a multi-line Go message continues, indented
        elif not self.in_stack and not self.pytest_frames:
            if _PHPUNIT_TEST_ID.match(line.strip()) and following.strip():
                return  # PHPUnit repeats the test's Class::method before the message
            self.message.append(line)

    def _add(self, frame: Frame, line: str) -> None:
        self.frames.append(frame)
        self.stack_lines.append(line.strip())
        self.in_stack = True


def _split_text(text: str, anchors: _Anchors, *, classname: str = "") -> _Stack:
    """Separate a failure body into message lines and frames (crash frame first)."""
    return _TextReader(anchors, _go_package_dir(classname), _own_package(classname)).read(text)


def _testify_message(lines: Sequence[str]) -> list[str]:
    """testify's block under a Go location (``Error Trace:`` / ``Error:`` / ``Test:`` fields):
    the ``Error:`` field and its continuation lines; [] when the lines are not such a block."""
    if not any(line.startswith("Error Trace:") for line in lines):
        return []
    out: list[str] = []
    for line in lines:
        field_name, _, value = line.partition(":")
        if out and field_name in {"Error Trace", "Test"}:
            break
        if out:
            out.append(line.strip())
        elif field_name == "Error":
            out.append(value.strip())
    return [line for line in out if line]


def _python_exception_lines(text: str) -> tuple[str, ...]:
    """The exception lines after the last traceback frame (``ValueError: …`` and its tail)."""
    lines = text.splitlines()
    last = max((i for i, line in enumerate(lines) if _PY_TRACEBACK.match(line)), default=-1)
    tail = lines[last + 1 :]
    start = next((i for i, line in enumerate(tail) if line and not line.startswith((" ", "\t"))), None)
    return tuple(tail[start:]) if start is not None else ()


def _dedent(lines: Sequence[str]) -> tuple[str, ...]:
    indents = [len(line) - len(line.lstrip()) for line in lines if line.strip()]
    cut = min(indents, default=0)
    return tuple(line[cut:] for line in lines)


def _python_frame(raw_path: str, lineno: int, function: str, anchors: _Anchors) -> Frame:
    path = anchors.repo_path(raw_path)
    vendor = is_vendor_path(raw_path)
    module = _without_suffix(path).replace("/", ".") if path and not vendor else ""
    return Frame(
        filename=path or raw_path,
        function=function,
        module=module,
        lineno=lineno,
        in_app=not vendor and bool(path),
        abs_path=raw_path,
        path="" if vendor else path,
    )


def _js_frame(location: str, lineno: int, function: str, anchors: _Anchors) -> Frame:
    path = anchors.repo_path(location)
    vendor = is_vendor_path(location) or not path
    return Frame(
        filename=path or location,
        function=function,
        module=_without_suffix(path) if path and not vendor else "",
        lineno=lineno,
        in_app=not vendor,
        abs_path=location,
        path="" if vendor else path,
    )


def _generic_frame(raw_path: str, lineno: int | None, function: str, anchors: _Anchors) -> Frame:
    """A frame from a ``path:line`` line (Go, PHPUnit, GoogleTest, Catch2) or a Dart stack line."""
    path = anchors.repo_path(raw_path)
    vendor = is_vendor_path(raw_path) or not path
    return Frame(
        filename=path or raw_path,
        function=function,
        module=_without_suffix(path) if path and not vendor else "",
        lineno=lineno,
        in_app=not vendor,
        abs_path=raw_path,
        path="" if vendor else path,
    )


def _java_frame(qualified: str, file_name: str, line: str | None, anchors: _Anchors) -> Frame:
    """``com.example.CartTest.total`` in ``CartTest.java`` → path ``com/example/CartTest.java``.

    JVM frames carry no folder: the package is the best guess, resolved against a checkout
    later. A frame without a source file (``Native Method``) gets no path.
    """
    qualified = re.sub(r"^[\w.@-]+/", "", qualified)  # Java 9 module prefix: java.base/…
    module, _, method = qualified.rpartition(".")
    package = module.rpartition(".")[0]
    has_source = bool(re.fullmatch(r"[\w$.-]+\.\w+", file_name))
    guess = "/".join([*package.split("."), file_name]) if package and has_source else file_name
    vendor = bool(_JVM_VENDOR.match(qualified))
    path = anchors.repo_path(guess) if has_source and not vendor else ""
    return Frame(
        filename=file_name if has_source else "",
        function=f"{module.rpartition('.')[2]}.{method}" if module else method,
        module=module,
        lineno=int(line) if line else None,
        in_app=not vendor and bool(path),
        abs_path="",
        path=path,
    )


def _dotnet_frame(qualified: str, file_name: str, line: str | None, anchors: _Anchors) -> Frame:
    """``at Shop.Tests.CartSteps.Total() in C:\\src\\CartSteps.cs:line 26``: the file is the one
    the trace names (a namespace is not a folder, so no path is guessed without one)."""
    module, _, method = qualified.rpartition(".")
    vendor = bool(_DOTNET_VENDOR.match(qualified))
    path = anchors.repo_path(file_name) if file_name and not vendor else ""
    return Frame(
        filename=file_name,
        function=f"{module.rpartition('.')[2]}.{method}" if module else method,
        module=module,
        lineno=int(line) if line else None,
        in_app=not vendor,
        abs_path=file_name,
        path=path,
    )


def _own_package(classname: str) -> str:
    """The test class's root package: its first segment, or its first two for reverse-domain
    names (``com.example`` of ``com.example.shop.CartTest``); '' when it is not dotted."""
    parts = classname.split(".")
    if len(parts) < 2 or not all(re.fullmatch(r"[A-Za-z_]\w*", p) for p in parts):
        return ""
    return ".".join(parts[:2]) if parts[0] in _REVERSE_DOMAINS else parts[0]


def _in_package(module: str, root: str) -> bool:
    return module == root or module.startswith(root + ".")


def _go_package_dir(classname: str) -> str:
    """``github.com/acme/shop/internal/cart`` → ``internal/cart`` (Go test files live in their
    package's folder; the module root is the host, owner and repository)."""
    parts = [p for p in classname.split("/") if p]
    if len(parts) < 2 or not re.fullmatch(r"[\w.-]+(?:/[\w.-]+)+", classname):
        return ""
    # A host (github.com/owner/repo, gitlab.com/group/project, golang.org/x/tools) is three
    # segments of module root; a module named without a host (shop/internal/cart) is one.
    return "/".join(parts[3:] if "." in parts[0] else parts[1:])


def _without_suffix(path: str) -> str:
    """``src/cart.test.js`` → ``src/cart.test``."""
    return re.sub(r"\.[^./]*$", "", path)


def _describe_line(frame: Frame) -> str:
    where = frame.path or frame.filename or frame.abs_path
    position = f":{frame.lineno}" if frame.lineno is not None else ""
    return f"at {frame.function} ({where}{position})" if frame.function else f"at {where}{position}"


# --- cases → failures -----------------------------------------------------------------------


def _playwright_last_attempt(text: str) -> tuple[str, int]:
    """The text of the last attempt (after the last ``Retry #N`` rule) without the header,
    attachment blocks and ``Error Context:`` lines, dedented; and the number of attempts."""
    lines = text.splitlines()
    retries = [i for i, line in enumerate(lines) if _PLAYWRIGHT_RETRY.match(line)]
    section = lines[retries[-1] + 1 :] if retries else lines
    kept: list[str] = []
    in_attachment = False
    for line in section:
        if _PLAYWRIGHT_HEADER.match(line):
            continue
        if _PLAYWRIGHT_ATTACHMENT.match(line):
            in_attachment = True
            continue
        if in_attachment:
            in_attachment = not _RULE.match(line)
            continue
        if line.strip().startswith("Error Context: "):
            continue
        kept.append(line)
    return "\n".join(_dedent(kept)).strip("\n"), len(retries) + 1


def _looks_like_type(name: str) -> bool:
    """An exception type (``AssertionError``, ``java.lang.NullPointerException``,
    ``PHPUnit\\Framework\\ExpectationFailedException``), not a runner's label for a failure
    (``FAILURE``, ``failure``, ``REQUIRE``, ``expect.toHaveText``)."""
    if not re.fullmatch(r"[A-Za-z_$][\w$.\\]*", name) or name.startswith("expect."):
        return False
    if name.lower() in {"failure", "failed", "error", "errors", "fail", "assert", "assertion"}:
        return False
    last = re.split(r"[.\\]", name)[-1]
    return last.endswith(_TYPE_ENDINGS) or "." in name or "\\" in name


_TYPE_ENDINGS = ("Error", "Exception", "Failure", "Failed", "Fault", "Panic", "Mismatch", "Throwable")
#: ``message`` attributes that only say a test failed (Go, Dart, .NET loggers).
_EMPTY_MESSAGES = re.compile(
    r"^(?:failed|failure|error|test failed|\d+ failures?, see stacktrace for details|)$", re.IGNORECASE
)


def _case_failure(case: _Case, anchors: _Anchors, index: int) -> Failure | None:
    failures = case.children("failure")
    errors = case.children("error")
    flaky = case.children("flakyFailure", "flakyError")
    reruns = case.children("rerunFailure", "rerunError")
    if failures:
        element, outcome = failures[0], "failure"
    elif errors:
        element, outcome = errors[0], "error"
    elif flaky:
        element, outcome = flaky[0], "flaky"
    else:
        return None

    classname = case.attr("classname")
    name = case.attr("name")
    playwright = case.is_playwright
    project_prefix = f"[{case.suite_attr('hostname')}] "
    if playwright and name.startswith(project_prefix):
        name = name[len(project_prefix) :]  # includeProjectInTestName: the project is known anyway
    raw_text = strip_ansi(element.text or "")
    for nested in element:  # surefire's flakyFailure carries its trace in <stackTrace>
        if _local(nested.tag) == "stackTrace":
            raw_text = raw_text if raw_text.strip() else strip_ansi(nested.text or "")
    attempts = 1 + len(reruns) + (len(flaky) if outcome == "flaky" else 0)
    declared_at = _PLAYWRIGHT_HEADER.search(raw_text) if playwright else None
    if playwright:
        raw_text, attempts = _playwright_last_attempt(raw_text)
    message_attr = strip_ansi(element.get("message") or "").strip()
    if not raw_text.strip() and "\n" in message_attr:
        raw_text = message_attr  # the whole failure (a traceback) is in the attribute, the body empty
    raw_text = _JOINED_DOTNET_FRAME.sub("\n   ", raw_text)
    stack = _split_text(raw_text, anchors, classname=classname)
    if declared_at and not stack.frames:
        # No stack (a test.fail that passed): point at the test's declaration, as the JSON does.
        spec = anchors.playwright_spec_path(classname)
        line = int(declared_at["line"])
        frame = Frame(filename=spec, module=_without_suffix(spec), lineno=line, path=spec)
        stack = _Stack(stack.message_lines, (frame,), (_describe_line(frame),), stack.crash_type)

    type_attr = strip_ansi(element.get("type") or "").strip()
    body = "\n".join(line.rstrip() for line in _dedent(stack.message_lines)).strip()
    exception_type, body = split_type(body)
    timed_out = bool(re.match(r"Test timeout of \d+ms exceeded", body))
    if timed_out:
        exception_type = "TimeoutError"
    elif body.strip() == EXPECTED_TO_FAIL or (type_attr == "FAILURE" and EXPECTED_TO_FAIL in raw_text):
        exception_type, body = "UnexpectedPass", EXPECTED_TO_FAIL
    if not exception_type:
        exception_type = (type_attr if _looks_like_type(type_attr) else "") or stack.crash_type
    if not body and not _EMPTY_MESSAGES.match(message_attr):
        attr_type, body = split_type(message_attr)
        exception_type = exception_type or attr_type
    body = body or message_attr
    exception_type = exception_type or ("Error" if outcome != "failure" else "AssertionError")

    project = case.suite_attr("hostname") if playwright else None
    file = _case_file(case, stack.frames, anchors)
    title = _case_title(classname, name, playwright) if name else _fallback_title(case, file, stack)
    test_path = tuple(name.split(TITLE_SEPARATOR)) if playwright and name else (name or title,)
    timestamp = case.suite_attr("timestamp") or None
    crash = next((f for f in stack.frames if f.in_app), stack.frames[0] if stack.frames else None)
    return Failure(
        source="junit",
        item_id=f"{classname}::{name}" if name else f"{classname or file}::#{index}",
        title=title,
        exception_type=exception_type,
        message=cap_message(body),
        frames=stack.frames,
        project=project or None,
        platform="javascript" if playwright else "",
        culprit=crash.describe() if crash else file,
        level="error",
        count=attempts if outcome != "flaky" else len(flaky),
        first_seen=timestamp,
        last_seen=timestamp,
        outcome=outcome,
        timed_out=timed_out,
        attempts=attempts,
        failed_attempts=attempts if outcome != "flaky" else len(flaky),
        file=file,
        test_path=test_path,
        stack=tuple(_describe_line(f) for f in stack.frames),
        screenshot=_screenshot(case),
    )


def _case_title(classname: str, name: str, playwright: bool) -> str:
    if playwright or not classname or classname in name:
        return name
    if re.fullmatch(r"[\w$]+(?:\.[\w$]+)+", classname):
        return f"{classname}.{name}"
    return f"{classname}{TITLE_SEPARATOR}{name}"


def _fallback_title(case: _Case, file: str, stack: _Stack) -> str:
    """A readable title for a case without a name: its class, file and line."""
    line = case.attr("line") or next(
        (str(f.lineno) for f in stack.frames if f.path == file and f.lineno is not None), ""
    )
    where = f"{file}:{line}" if file and line else file
    owner = case.attr("classname") or case.suite_attr("name")
    if owner and where:
        return f"{owner} (unnamed test at {where})"
    if owner or where:
        return f"unnamed test in {owner or where}"
    return "unnamed test case"


def _case_file(case: _Case, frames: Sequence[Frame], anchors: _Anchors) -> str:
    """The repository path of the test file the report names: the ``file`` attribute, a
    classname that is a path (Playwright, vitest) or a class (pytest, JUnit: the frame of that
    class), else the outermost in-app frame."""
    file_attr = case.file_attr()
    if file_attr and (path := anchors.repo_path(file_attr)):
        return path
    classname = case.attr("classname")
    if case.is_playwright:
        return anchors.playwright_spec_path(classname)
    if classname.endswith(_JS_EXTENSIONS) and (path := anchors.repo_path(classname)):
        return path
    dotted = classname.replace(".", "/")
    for frame in frames:
        stem = _without_suffix(frame.path)
        if frame.path and (dotted == stem or dotted.startswith(stem + "/")):
            return frame.path
    outer_class = classname.split("$", 1)[0]
    for frame in frames:  # JVM and .NET: the frame in the test class itself
        if frame.path and frame.module and frame.module.split("$", 1)[0] == outer_class:
            return frame.path
    in_app = [f for f in frames if f.in_app and f.path]
    tests = [f for f in in_app if re.search(r"(?:^|[/_.-])(?:tests?|spec)(?:[/_.-]|$)", f.path.lower())]
    if tests:
        return tests[-1].path
    return in_app[-1].path if in_app else ""


def _screenshot(case: _Case) -> str | None:
    """The last ``.png`` attachment marker (Playwright writes them into ``<system-out>``)."""
    system_out = "".join(el.text or "" for el in case.children("system-out"))
    shots = [
        m["path"].strip()
        for m in _ATTACHMENT_MARKER.finditer(system_out)
        if m["path"].strip().endswith(".png")
    ]
    return shots[-1] if shots else None
