"""Playwright JSON reports → :class:`~selfheal.records.Failure` records.

One Failure per (test declaration, project) whose outcome (``tests[].status``) is
``unexpected`` or ``flaky``, plus one per file that failed to load (top-level ``errors[]``).
``spec.ok`` is never used: it reflects only the first project. The shape of the report, as
Playwright 1.65 emits it, is described in ``facts/playwright-report.md``; the rules this
parser follows are those of its section "What a parser must handle".

Paths: spec ``file`` fields are relative to ``config.rootDir`` (the testDir); every other
path is absolute on the machine that ran the tests. Both become repository paths relative
to the folder of ``config.configFile`` (``tests/auth/login.spec.ts``); page-error frames
carry URLs and keep their URL path (``js/search.js``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Final

from selfheal.errors import InputError
from selfheal.models import Frame
from selfheal.paths import RepoTree, is_vendor_path, to_repo_path
from selfheal.records import Failure, as_dict, as_list, as_text, strip_ansi
from selfheal.sources.stacktext import (
    CODE_FRAME,
    EXPECTED_TO_FAIL,
    JS_FRAME,
    TITLE_SEPARATOR,
    cap_message,
    split_type,
)
from selfheal.storage import MAX_INPUT_BYTES, read_json

__all__ = [
    "DEFAULT_REPORT_LOCATIONS",
    "TITLE_SEPARATOR",
    "CaseIdentity",
    "PlaywrightRun",
    "find_default_report",
    "load_playwright_report",
    "load_playwright_run",
    "parse_js_stack_line",
    "parse_playwright_report",
    "without_tests_described_by",
]

#: Where the original script looked for a report, relative to the working directory.
DEFAULT_REPORT_LOCATIONS: Final = (
    Path("playwright-report/report.json"),
    Path("test-results/report.json"),
)

_FAILING_OUTCOMES: Final = ("unexpected", "flaky")
_TIMEOUT_TYPE = "TimeoutError"
_UNEXPECTED_PASS_TYPE = "UnexpectedPass"  # noqa: S105 -- an exception type name, not a password

_STACK_LINE = re.compile(r"^\s+at \S")
_TIMEOUT_MS = re.compile(r"Test timeout of (\d+)ms exceeded")


def find_default_report(cwd: Path) -> Path:
    """The report in the first of :data:`DEFAULT_REPORT_LOCATIONS` that exists under ``cwd``."""
    for relative in DEFAULT_REPORT_LOCATIONS:
        candidate = cwd / relative
        if candidate.is_file():
            return candidate
    tried = " or ".join(str(cwd / r) for r in DEFAULT_REPORT_LOCATIONS)
    raise InputError(cwd, f"no Playwright JSON report found (looked for {tried}); pass the report path")


def load_playwright_report(
    path: str | Path, *, repo_root: Path | None = None, max_bytes: int = MAX_INPUT_BYTES
) -> list[Failure]:
    """Read a Playwright JSON report (bounded, errors naming the file) and parse it."""
    return parse_playwright_report(read_json(path, max_bytes=max_bytes), path, repo_root=repo_root)


@dataclass(frozen=True, slots=True)
class CaseIdentity:
    """One test of one run, the same in every report format: spec file (repository path),
    title path (describes then title) and project ('' for a single unnamed project)."""

    spec_file: str
    title_path: tuple[str, ...]
    project: str = ""
    spec_in_test_dir: str = ""
    """The spec file as the report names it, relative to the testDir (JSON ``spec.file``,
    JUnit ``classname``): the same string in both formats."""

    @classmethod
    def of(cls, failure: Failure) -> CaseIdentity:
        """The identity of a JUnit failure (its item id is ``classname::name``)."""
        classname = failure.item_id.split("::", 1)[0] if "::" in failure.item_id else ""
        title_path = failure.test_path
        if len(title_path) == 1 and TITLE_SEPARATOR in title_path[0]:  # a title path not split yet
            title_path = tuple(title_path[0].split(TITLE_SEPARATOR))
        return cls(failure.file, title_path, failure.project or "", classname)

    def same_test(self, other: CaseIdentity) -> bool:
        """Same title path and project, and the same spec file: named alike relative to the
        testDir, or one repository path ending with the other."""
        if self.title_path != other.title_path or self.project != other.project:
            return False
        if self.spec_in_test_dir and self.spec_in_test_dir == other.spec_in_test_dir:
            return True
        mine, theirs = self.spec_file, other.spec_file
        return bool(mine and theirs) and (
            mine == theirs or mine.endswith("/" + theirs) or theirs.endswith("/" + mine)
        )


@dataclass(frozen=True, slots=True)
class PlaywrightRun:
    """A JSON report read: its failures, and every test it describes (passed ones too)."""

    failures: tuple[Failure, ...]
    tests: frozenset[CaseIdentity]


def load_playwright_run(
    path: str | Path,
    *,
    repo_root: Path | None = None,
    tree: RepoTree | None = None,
    max_bytes: int = MAX_INPUT_BYTES,
) -> PlaywrightRun:
    """:func:`load_playwright_report` plus the identity of every test in the report.

    ``tree``: the checkout's files, to resolve served URLs in page-error frames
    (``http://localhost:3000/static/app.js`` → ``frontend/static/app.js``).
    """
    data = read_json(path, max_bytes=max_bytes)
    failures = parse_playwright_report(data, path, repo_root=repo_root, tree=tree)
    return PlaywrightRun(tuple(failures), _test_identities(data, repo_root=repo_root))


def without_tests_described_by(junit: Sequence[Failure], run: PlaywrightRun) -> list[Failure]:
    """JUnit failures the JSON report of the same run does not already describe.

    Teams upload both formats of one run: the JSON wins wherever it has a result for the test
    (a failure, a flaky pass, a pass), so each failing test is counted once.
    """
    by_title: dict[tuple[tuple[str, ...], str], list[CaseIdentity]] = {}
    for test in run.tests:
        by_title.setdefault((test.title_path, test.project), []).append(test)
    kept = []
    for failure in junit:
        identity = CaseIdentity.of(failure)
        known = by_title.get((identity.title_path, identity.project), [])
        if not any(identity.same_test(test) for test in known):
            kept.append(failure)
    return kept


def _test_identities(data: object, *, repo_root: Path | None) -> frozenset[CaseIdentity]:
    """Every (spec file, title path, project) of a report (parsed already, so well-formed)."""
    root = as_dict(data)
    paths = _PathMapper.from_config(as_dict(root.get("config")), repo_root=repo_root)
    found: set[CaseIdentity] = set()
    pending: list[tuple[Mapping[str, object], tuple[str, ...] | None]] = [
        (as_dict(suite), None) for suite in as_list(root.get("suites"))
    ]
    while pending:
        suite, describes = pending.pop()
        title = strip_ansi(as_text(suite.get("title")))
        inner = () if describes is None else (*describes, title)
        for raw_spec in as_list(suite.get("specs")):
            spec = as_dict(raw_spec)
            spec_file = as_text(spec.get("file"))
            title_path = (*inner, strip_ansi(as_text(spec.get("title"))))
            for raw_test in as_list(spec.get("tests")):
                test = as_dict(raw_test)
                project = as_text(test.get("projectName")) or as_text(test.get("projectId"))
                repo_file = paths.spec_path(spec_file) if spec_file else ""
                found.add(CaseIdentity(repo_file, title_path, project, _posix(spec_file).removeprefix("./")))
        pending.extend((as_dict(child), inner) for child in as_list(suite.get("suites")))
    return frozenset(found)


def parse_playwright_report(
    data: object, path: str | Path, *, repo_root: Path | None = None, tree: RepoTree | None = None
) -> list[Failure]:
    """Failures of one Playwright JSON report, in report order (file, describe, spec, project).

    ``path`` names the report in errors. ``repo_root`` is an optional local checkout: when
    the Playwright project lives in a sub-folder of it, paths are prefixed with that folder.
    Raises :class:`InputError` when the report is not a Playwright JSON report.
    """
    report = _Report(path)
    root = report.mapping(data, "the report")
    if "suites" not in root and "errors" not in root:
        raise InputError(path, "not a Playwright JSON report: it has neither 'suites' nor 'errors'")
    config = report.mapping(root.get("config", {}), "'config'")
    stats = report.mapping(root.get("stats", {}), "'stats'")
    paths = _PathMapper.from_config(config, repo_root=repo_root, tree=tree)
    run_started = as_text(stats.get("startTime")) or None

    failures: list[Failure] = []
    for index, error in enumerate(report.array(root.get("errors", []), "'errors'")):
        where = f"errors[{index}]"
        failures.append(_load_error_failure(report.mapping(error, where), paths, run_started, index))
    suites = report.array(root.get("suites", []), "'suites'")
    for index, suite in enumerate(suites):
        failures.extend(_suite_failures(report, suite, f"suites[{index}]", None, paths))
    return failures


# --- report navigation ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Report:
    """Typed access to the raw JSON, with errors that say where in the report it went wrong."""

    path: str | Path

    def mapping(self, value: object, where: str) -> Mapping[str, object]:
        if not isinstance(value, Mapping):
            raise InputError(self.path, f"{where} should be a JSON object, not {_json_kind(value)}")
        return value

    def array(self, value: object, where: str) -> Sequence[object]:
        if not isinstance(value, list):
            raise InputError(self.path, f"{where} should be a JSON array, not {_json_kind(value)}")
        return value

    def string(self, value: object, where: str) -> str:
        if not isinstance(value, str):
            raise InputError(self.path, f"{where} should be a string, not {_json_kind(value)}")
        return value


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _optional_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# --- paths ----------------------------------------------------------------------------------


def _posix(raw: str) -> str:
    """POSIX form of a report path (Windows runners write ``C:\\…``)."""
    return raw.replace("\\", "/") if re.match(r"^[A-Za-z]:[\\/]", raw) or "\\" in raw else raw


@dataclass(frozen=True, slots=True)
class _PathMapper:
    """Turns report paths into repository paths (see the module docstring)."""

    root_dir: str
    """``config.rootDir`` (the testDir), absolute on the runner; '' when unknown."""
    base_dir: str
    """The folder of ``config.configFile``: repository paths are relative to it."""
    prefix: str = ""
    """The Playwright project's folder inside the local checkout (``e2e/``), or ''."""
    tree: RepoTree | None = None

    @classmethod
    def from_config(
        cls, config: Mapping[str, object], *, repo_root: Path | None, tree: RepoTree | None = None
    ) -> _PathMapper:
        root_dir = _posix(as_text(config.get("rootDir"))).rstrip("/")
        config_file = _posix(as_text(config.get("configFile")))
        base_dir = str(PurePosixPath(config_file).parent) if config_file else root_dir
        mapper = cls(root_dir, base_dir, tree=tree)
        if repo_root is not None and base_dir:
            return cls(root_dir, base_dir, _checkout_prefix(repo_root, base_dir, mapper), tree)
        return mapper

    def spec_path(self, spec_file: str) -> str:
        """Repository path of a spec ``file`` (relative to rootDir)."""
        spec_file = _posix(spec_file)
        if not self.root_dir or PurePosixPath(spec_file).is_absolute():
            return self.prefix + self._relative(spec_file)
        return self.prefix + self._relative(f"{self.root_dir}/{spec_file}")

    def absolute_path(self, raw: str) -> str:
        """Repository path of an absolute runner path or URL; '' when it has none."""
        raw = _posix(raw.strip())
        if raw.startswith(("http://", "https://")):
            # A page error: the URL path is the best guess of the served file, and a checkout
            # knows which folder serves it.
            return to_repo_path(raw, tree=self.tree)
        if raw.startswith("file://"):
            raw = raw.removeprefix("file://")
        if raw.startswith("node:") or not raw:
            return ""
        return to_repo_path(self.prefix + self._relative(raw), tree=self.tree)

    def _relative(self, absolute: str) -> str:
        normalized = _normalize_posix(absolute)
        base = _normalize_posix(self.base_dir).rstrip("/") if self.base_dir else ""
        if base and normalized.startswith(base + "/"):
            return normalized[len(base) + 1 :]
        return normalized


def _normalize_posix(raw: str) -> str:
    """Collapse ``.``/``..`` without touching the file system (paths are from another machine)."""
    absolute = raw.startswith("/")
    parts: list[str] = []
    for part in raw.split("/"):
        if part in ("", "."):
            continue
        if part == ".." and parts and parts[-1] != "..":
            parts.pop()
        elif part == ".." and absolute:
            continue
        else:
            parts.append(part)
    return ("/" if absolute else "") + "/".join(parts)


def _checkout_prefix(repo_root: Path, base_dir: str, mapper: _PathMapper) -> str:
    """Where the Playwright project sits inside ``repo_root``: the shortest trailing part of
    the runner's config folder under which the test folder exists locally ('' if at the root)."""
    test_dir = mapper._relative(mapper.root_dir) if mapper.root_dir else ""
    base_parts = PurePosixPath(base_dir).parts[1:]
    for start in range(len(base_parts), -1, -1):
        prefix = "/".join(base_parts[start:])
        candidate = repo_root / prefix / test_dir if test_dir else repo_root / prefix
        if candidate.exists():
            return f"{prefix}/" if prefix else ""
    return ""


# --- stacks and messages --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _ParsedFrame:
    frame: Frame
    column: int | None

    def line(self) -> str:
        where = self.frame.path or self.frame.abs_path
        position = f":{self.frame.lineno}" if self.frame.lineno is not None else ""
        position += f":{self.column}" if self.column is not None and position else ""
        if self.frame.function:
            return f"at {self.frame.function} ({where}{position})"
        return f"at {where}{position}"


def parse_js_stack_line(line: str) -> tuple[str, str, int, int] | None:
    """``(function, location, line, column)`` of one V8 stack line, or None if it is not one."""
    match = JS_FRAME.match(line)
    if match is None:
        return None
    if match["loc"] is not None:
        function = match["func"].removeprefix("async ").strip()
        return function, match["loc"], int(match["line"]), int(match["col"])
    return "", match["loc2"], int(match["line2"]), int(match["col2"])


def _frames_from_stack(lines: Sequence[str], paths: _PathMapper) -> list[_ParsedFrame]:
    frames: list[_ParsedFrame] = []
    for line in lines:
        parsed = parse_js_stack_line(line)
        if parsed is None:
            continue
        function, location, lineno, column = parsed
        frames.append(_frame(location, lineno, column, function, paths))
    return frames


def _frame(
    location: str, lineno: int | None, column: int | None, function: str, paths: _PathMapper
) -> _ParsedFrame:
    repo_path = paths.absolute_path(location)
    module = str(PurePosixPath(repo_path).with_suffix("")) if repo_path else ""
    vendor = is_vendor_path(location) or not repo_path
    frame = Frame(
        filename=repo_path or location,
        function=function,
        module=module,
        lineno=lineno,
        in_app=not vendor,
        abs_path=location,
        path=repo_path,
    )
    return _ParsedFrame(frame, column)


@dataclass(frozen=True, slots=True)
class _ErrorText:
    """One formatted error split into what a person reads first, and its stack lines."""

    message: str
    stack: tuple[str, ...]


def _split_error_text(text: str) -> _ErrorText:
    """Split an ``errors[].message`` (message, blank line, code frame, stack) into parts."""
    lines = strip_ansi(text).splitlines()
    end = len(lines)
    while end and (not lines[end - 1].strip() or _STACK_LINE.match(lines[end - 1])):
        end -= 1
    stack = tuple(line.strip() for line in lines[end:] if line.strip())
    body = [line for line in lines[:end] if not CODE_FRAME.match(line)]
    while body and not body[-1].strip():
        body.pop()
    return _ErrorText("\n".join(body), stack)


def _error_texts(result: Mapping[str, object]) -> list[_ErrorText]:
    """The errors of one attempt: ``errors[]`` when present, else the raw ``error``."""
    texts = []
    for entry in as_list(result.get("errors")):
        message = as_text(as_dict(entry).get("message"))
        if message:
            texts.append(_split_error_text(message))
    if texts:
        return texts
    raw = _raw_error_text(as_dict(result.get("error")))
    return [_split_error_text(raw)] if raw else []


def _raw_error_text(error: Mapping[str, object]) -> str:
    """A Playwright ``TestError``'s text: its stack, else its message, else its value."""
    return as_text(error.get("stack")) or as_text(error.get("message")) or as_text(error.get("value"))


# --- failures -------------------------------------------------------------------------------


def _suite_failures(
    report: _Report,
    raw_suite: object,
    where: str,
    describes: tuple[str, ...] | None,
    paths: _PathMapper,
) -> Iterator[Failure]:
    """``describes`` is None for a file-level suite, whose title is the file path, not a
    describe title."""
    suite = report.mapping(raw_suite, where)
    title = strip_ansi(as_text(suite.get("title")))
    inner = () if describes is None else (*describes, title)
    for index, raw_spec in enumerate(report.array(suite.get("specs", []), f"{where}.specs")):
        yield from _spec_failures(report, raw_spec, f"{where}.specs[{index}]", inner, paths)
    for index, child in enumerate(report.array(suite.get("suites", []), f"{where}.suites")):
        yield from _suite_failures(report, child, f"{where}.suites[{index}]", inner, paths)


def _spec_failures(
    report: _Report, raw_spec: object, where: str, describes: tuple[str, ...], paths: _PathMapper
) -> Iterator[Failure]:
    spec = report.mapping(raw_spec, where)
    title = strip_ansi(as_text(spec.get("title")))
    named = f"{where} ({title!r})" if title else where
    if "tests" not in spec:
        raise InputError(report.path, f"{named} has no 'tests' array")
    tests = report.array(spec["tests"], f"{named}.tests")
    spec_file = as_text(spec.get("file"))
    spec_id = as_text(spec.get("id")) or f"{spec_file}:{TITLE_SEPARATOR.join((*describes, title))}"
    tags = tuple(strip_ansi(tag) for tag in as_list(spec.get("tags")) if isinstance(tag, str))
    location = _SpecLocation(
        paths.spec_path(spec_file) if spec_file else "",
        _optional_int(spec.get("line")),
        _optional_int(spec.get("column")),
    )
    for index, raw_test in enumerate(tests):
        test_where = f"{named}.tests[{index}]"
        test = report.mapping(raw_test, test_where)
        outcome = report.string(test.get("status"), f"{test_where}.status")
        if outcome not in _FAILING_OUTCOMES:
            continue
        results = [
            report.mapping(r, f"{test_where}.results[{i}]")
            for i, r in enumerate(report.array(test.get("results"), f"{test_where}.results"))
        ]
        yield _test_failure(
            test=test,
            results=results,
            outcome=outcome,
            spec_id=spec_id,
            test_path=(*describes, title),
            location=location,
            tags=tags,
            paths=paths,
        )


@dataclass(frozen=True, slots=True)
class _SpecLocation:
    path: str
    line: int | None
    column: int | None


def _test_failure(
    *,
    test: Mapping[str, object],
    results: Sequence[Mapping[str, object]],
    outcome: str,
    spec_id: str,
    test_path: tuple[str, ...],
    location: _SpecLocation,
    tags: tuple[str, ...],
    paths: _PathMapper,
) -> Failure:
    expected_status = as_text(test.get("expectedStatus")) or "passed"
    failing = [r for r in results if as_text(r.get("status")) not in (expected_status, "skipped", "")]
    if not failing and results:
        failing = [results[-1]]
    last = failing[-1] if failing else {}
    last_status = as_text(last.get("status"))

    texts = _error_texts(last)
    timed_out = last_status == "timedOut"
    if expected_status == "failed" and last_status == "passed":
        exception_type, message = _UNEXPECTED_PASS_TYPE, EXPECTED_TO_FAIL
    elif timed_out:
        exception_type, message = _timeout_message(texts, _optional_int(test.get("timeout")))
    elif texts:
        exception_type, first = split_type(texts[0].message)
        exception_type = exception_type or "Error"  # no type named: a JavaScript error
        message = "\n\n".join([first, *(t.message for t in texts[1:])])
    else:
        exception_type, message = "Error", f"Test ended with status {last_status or 'unknown'}."

    # The first error that has a stack (a timeout's own error has none; the pending action's has).
    frames = next((fs for t in texts if (fs := _frames_from_stack(t.stack, paths))), [])
    if not frames:
        frames = _fallback_frames(last, location, paths)
    started = [s for r in failing if (s := as_text(r.get("startTime")))]
    crash = next((f.frame for f in frames if f.frame.in_app), frames[0].frame if frames else None)
    return Failure(
        source="playwright",
        item_id=spec_id,
        title=TITLE_SEPARATOR.join(test_path),
        exception_type=exception_type,
        message=cap_message(message),
        frames=tuple(f.frame for f in frames),
        project=as_text(test.get("projectName")) or as_text(test.get("projectId")) or None,
        platform="javascript",
        culprit=crash.describe() if crash else location.path,
        level="error",
        count=len(failing),
        first_seen=started[0] if started else None,
        last_seen=started[-1] if started else None,
        outcome=outcome,
        timed_out=timed_out,
        attempts=len(results),
        failed_attempts=len(failing),
        file=location.path,
        test_path=test_path,
        stack=tuple(f.line() for f in frames),
        screenshot=_screenshot(failing, paths),
        tags=tags,
    )


def _timeout_message(texts: Sequence[_ErrorText], timeout: int | None) -> tuple[str, str]:
    """``Test timeout of 5000ms exceeded.`` first, then what was pending (the action's error)."""
    messages = [t.message for t in texts if t.message]
    headline = next((m for m in messages if m.startswith("Test timeout of")), None)
    if headline is None:
        match = next((m for msg in messages if (m := _TIMEOUT_MS.search(msg))), None)
        ms = match.group(1) if match else (str(timeout) if timeout is not None else "?")
        headline = f"Test timeout of {ms}ms exceeded."
    rest = [m for m in messages if m != headline]
    return _TIMEOUT_TYPE, "\n\n".join([headline, *rest])


def _fallback_frames(
    result: Mapping[str, object], location: _SpecLocation, paths: _PathMapper
) -> list[_ParsedFrame]:
    """A frame at the error's location, else at the test's declaration (no stack at all)."""
    for source in (
        as_dict(result.get("error")).get("location"),
        result.get("errorLocation"),
    ):
        where = as_dict(source)
        file = as_text(where.get("file"))
        if file:
            return [
                _frame(
                    file,
                    _optional_int(where.get("line")),
                    _optional_int(where.get("column")),
                    "",
                    paths,
                )
            ]
    if location.path:
        module = str(PurePosixPath(location.path).with_suffix(""))
        frame = Frame(filename=location.path, module=module, lineno=location.line, path=location.path)
        return [_ParsedFrame(frame, location.column)]
    return []


def _screenshot(failing: Sequence[Mapping[str, object]], paths: _PathMapper) -> str | None:
    """The screenshot of the last failing attempt that has one (repository-relative)."""
    for result in reversed(failing):
        for attachment in as_list(result.get("attachments")):
            entry = as_dict(attachment)
            path = as_text(entry.get("path"))
            if entry.get("name") == "screenshot" and path:
                return paths.absolute_path(path)
    return None


def _load_error_failure(
    error: Mapping[str, object], paths: _PathMapper, run_started: str | None, index: int
) -> Failure:
    """A global error (a file that failed to load, a global setup failure, a worker crash)."""
    text = _split_error_text(_raw_error_text(error))
    if not text.message:
        text = _ErrorText(strip_ansi(as_text(error.get("message")) or "Unknown error"), text.stack)
    exception_type, message = split_type(text.message)
    exception_type = exception_type or "Error"
    frames = _frames_from_stack(text.stack, paths)
    location = as_dict(error.get("location"))
    file = as_text(location.get("file"))
    if not frames and file:
        frames = [
            _frame(
                file,
                _optional_int(location.get("line")),
                _optional_int(location.get("column")),
                "",
                paths,
            )
        ]
    repo_file = paths.absolute_path(file) if file else (frames[0].frame.path if frames else "")
    headline = message.splitlines()[0] if message else exception_type
    if repo_file:
        item_id, title = f"load-error:{repo_file}", f"Failed to load {repo_file}: {headline}"
    else:
        item_id, title = f"global-error:{index}", f"Error outside any test: {headline}"
    crash = frames[0].frame if frames else None
    return Failure(
        source="playwright",
        item_id=item_id,
        title=title,
        exception_type=exception_type,
        message=cap_message(message),
        frames=tuple(f.frame for f in frames),
        platform="javascript",
        culprit=crash.describe() if crash else repo_file,
        level="error",
        first_seen=run_started,
        last_seen=run_started,
        outcome="unexpected",
        file=repo_file,
        stack=tuple(f.line() for f in frames),
    )
