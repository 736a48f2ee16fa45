"""`selfheal normalize` from the command line: outputs, defaults, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CliRunner

from selfheal.cli import main
from selfheal.contracts import contract_errors
from selfheal.pipeline import sample_path


def test_normalize_sentry_in_a_real_process_writes_valid_patchtasks(tmp_path: Path) -> None:
    """The one subprocess smoke test of `normalize`; the others call ``main(argv)`` in-process."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "sentry_errors.json").write_bytes(sample_path("sentry_errors.json").read_bytes())
    result = subprocess.run(
        [sys.executable, "-m", "selfheal", "normalize", "sentry"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    tasks = json.loads((out / "patchtasks.json").read_text())
    assert len(tasks) == 8
    assert all(contract_errors(t) == [] for t in tasks)
    assert "raw items -> 8 PatchTasks" in result.stderr


def test_min_frequency_flag_beats_environment(tmp_path: Path) -> None:
    export = sample_path("sentry_errors.json")
    code = main(
        ["normalize", "sentry", "--input", str(export), "--min-frequency", "50", "--out", str(tmp_path)]
    )
    assert code == 0
    tasks = json.loads((tmp_path / "patchtasks.json").read_text())
    assert {t["frequency"] >= 50 for t in tasks} == {True}


def test_playwright_default_locations_like_the_original(tmp_path: Path, run_cli: CliRunner) -> None:
    (tmp_path / "test-results").mkdir()
    (tmp_path / "test-results" / "report.json").write_bytes(
        sample_path("playwright-report.json").read_bytes()
    )
    result = run_cli("normalize", "playwright", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    tasks = json.loads((tmp_path / "out" / "playwright_patchtasks.json").read_text())
    assert len(tasks) == 8


def test_merged_normalize_writes_one_file_with_cross_source_tasks(tmp_path: Path) -> None:
    code = main(
        [
            "normalize",
            "--sentry",
            str(sample_path("sentry_errors.json")),
            "--playwright",
            str(sample_path("playwright-report.json")),
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 0
    tasks = json.loads((tmp_path / "patchtasks.json").read_text())
    assert any(set(t["sources"]) == {"sentry", "playwright"} for t in tasks)
    assert not (tmp_path / "playwright_patchtasks.json").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[{"issue": {"id": "1", "title": "x"}', "malformed JSON at line 1 column"),
        ("", "file is empty"),
        ('{"not": "a list"}', "expected a JSON list"),
        ('[{"issue": {"id": "1"}}]', "issue has no 'title'"),
    ],
)
def test_bad_input_is_one_line_nonzero_and_keeps_the_previous_output(
    tmp_path: Path, content: str, message: str, run_cli: CliRunner
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "sentry_errors.json").write_text(content)
    previous = '[{"kept": true}]'
    (out / "patchtasks.json").write_text(previous)
    result = run_cli("normalize", "sentry", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("selfheal: error: out/sentry_errors.json: ")
    assert message in lines[0]
    assert "Traceback" not in result.stderr
    assert (out / "patchtasks.json").read_text() == previous  # nothing half-written or lost
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []  # no temp files left


def test_missing_input_and_missing_arguments_are_clear(tmp_path: Path, run_cli: CliRunner) -> None:
    result = run_cli("normalize", "sentry", cwd=tmp_path)
    assert result.returncode == 2
    # Issue 13: a missing expected output also names the command that makes it.
    assert result.stderr.strip() == (
        "selfheal: error: out/sentry_errors.json: file not found; "
        "`selfheal pull sentry` (or `pull bugsink`) writes it"
    )
    result = run_cli("normalize", "playwright", cwd=tmp_path)
    assert result.returncode == 2
    assert "playwright-report/report.json" in result.stderr
    result = run_cli("normalize", cwd=tmp_path)
    assert result.returncode == 2
    assert "say what to normalize" in result.stderr


def test_hostile_huge_message_is_bounded(tmp_path: Path) -> None:
    huge = "A" * 2_000_000 + " <script>alert(1)</script>"
    export = [{"issue": {"id": "1", "title": "Boom", "count": "3", "level": "error"}, "latestEvent": None}]
    export[0]["issue"]["metadata"] = {"type": "ValueError", "value": huge}
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export))
    assert main(["normalize", "sentry", "--input", str(path), "--out", str(tmp_path)]) == 0
    task = json.loads((tmp_path / "patchtasks.json").read_text())[0]
    assert len(task["evidence"]["message"]) < 20_000
    assert len(task["title"]) <= 200
