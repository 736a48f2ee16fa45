"""The six measures of issue 12 on the hand-written collection in tests/fixtures/.

    .venv/bin/python bench/sources.py            # prints the six rows, exits 1 below a goal

Expected values come from tests/fixtures/expected_sources.toml (written by hand). The check
for "a real file path" is written here, independently of the parser's own.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import sys
import tempfile
import tomllib
from collections import Counter
from pathlib import Path

from selfheal.cli import main as selfheal_main
from selfheal.config import Config
from selfheal.normalize import build_tasks
from selfheal.pipeline import read_failures
from selfheal.sources.junit import parse_junit
from selfheal.sources.sentry_export import load_sentry_export

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
EXPECTED = tomllib.loads((FIXTURES / "expected_sources.toml").read_text(encoding="utf-8"))
PAIRED_RUNS = (
    ("report.json", "junit.xml"),
    ("report-run2.json", "junit-run2.xml"),
    ("report-load-error.json", "junit-load-error.xml"),
)
_FILE = re.compile(r"^(?:[\w.@+-]+/)*(?:[\w.@+-]*[\w@+-]\.[A-Za-z0-9_+-]{1,12}|Dockerfile|Makefile)$")


def real_file_path(path: str) -> bool:
    """A relative path ending in a file name: no scheme, drive, line suffix, ``..`` or spaces."""
    return bool(_FILE.match(path)) and ".." not in path.split("/") and not path.rsplit("/", 1)[-1].isdigit()


def junit_files() -> list[Path]:
    return sorted(
        [*(FIXTURES / "runners").glob("*.xml"), *(FIXTURES / "junit").glob("*.xml"),
         *(FIXTURES / "playwright").glob("junit*.xml")]
    )  # fmt: skip


def row_paired_runs() -> tuple[int, int]:
    good = 0
    for report, junit in PAIRED_RUNS:
        folder = FIXTURES / "playwright"
        failures = read_failures(playwright=folder / report, junit=folder / junit, config=Config())
        counts = Counter((f.file.rsplit("/", 1)[-1], f.test_path, f.project or "") for f in failures)
        good += all(n == 1 for n in counts.values())
    return good, len(PAIRED_RUNS)


def row_junit_processed(out: Path) -> tuple[tuple[int, int], list[dict[str, object]]]:
    ok, tasks = 0, []
    for index, path in enumerate(junit_files()):
        target = out / f"{index}.json"
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                code = selfheal_main(
                    ["normalize", "junit", str(path), "--output", str(target), "--out", str(out)]
                )
        except Exception as exc:  # a traceback is exactly what this row counts
            print(f"  traceback on {path.name}: {type(exc).__name__}: {exc}", file=sys.stderr)
            continue
        if code == 0:
            ok += 1
            tasks += json.loads(target.read_text())
    return (ok, len(junit_files())), tasks


def row_only_real_paths(tasks: list[dict[str, object]]) -> tuple[int, int]:
    hints = [list(t["expectedFix"]["filesHint"]) for t in tasks]  # type: ignore[index]
    return sum(all(real_file_path(h) for h in hs) for hs in hints), len(hints)


def row_named_test_file() -> tuple[int, int]:
    good = 0
    cases = [c for c in EXPECTED["junit"] if c["file"]]  # cases whose report names a file
    by_fixture: dict[str, list[dict[str, str]]] = {}
    for case in cases:
        by_fixture.setdefault(case["fixture"], []).append(case)
    for fixture, expected in by_fixture.items():
        try:
            failures = parse_junit(FIXTURES / "runners" / fixture)
        except Exception:  # noqa: S112 -- an unreadable file names no file
            continue
        everything = [c for c in EXPECTED["junit"] if c["fixture"] == fixture]
        for case, failure in zip(everything, failures, strict=False):
            if case not in expected:
                continue
            try:
                (task,) = build_tasks([failure], Config())
            except Exception:  # noqa: S112 -- a crash names no file
                continue
            good += case["file"] in task.expected_fix.files_hint
    return good, len(cases)


def rows_sentry() -> tuple[tuple[int, int], tuple[int, int]]:
    hint_good = hint_total = area_good = 0
    cases = EXPECTED["sentry"]
    for case in cases:
        same = [c for c in cases if c["fixture"] == case["fixture"]]
        failure = load_sentry_export(FIXTURES / "sentry_platforms" / case["fixture"])[same.index(case)]
        (task,) = build_tasks([failure], Config())
        if case["first_hint"]:
            hint_total += 1
            hint_good += (
                bool(task.expected_fix.files_hint) and task.expected_fix.files_hint[0] == case["first_hint"]
            )
        area_good += task.area == case["area"]
    return (hint_good, hint_total), (area_good, len(cases))


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        processed, tasks = row_junit_processed(Path(tmp))
    hints, areas = rows_sentry()
    rows = [
        ("Playwright JSON + JUnit of one run give each failing test once (runs)", row_paired_runs()),
        ("JUnit files processed without a traceback", processed),
        ("JUnit tasks whose filesHint holds only real file paths", row_only_real_paths(tasks)),
        ("failing cases whose report names the test file: that file is in filesHint", row_named_test_file()),
        ("Sentry events with an in-app frame: first hint = that frame's file", hints),
        ("Sentry area right for the platform", areas),
    ]
    for label, (good, total) in rows:
        print(f"{good:>3} of {total:<3} {label}")
    return 0 if all(good == total for _, (good, total) in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
