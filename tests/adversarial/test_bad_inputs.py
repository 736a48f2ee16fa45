"""Bad inputs: each is one clear ``selfheal: error: …`` line, a non-zero exit code and the
earlier outputs intact; never a traceback, a hang or a silent acceptance."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from adversarial.checks import one_error_line
from selfheal.cli import main
from selfheal.contracts import load_tasks

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
REPORT = FIXTURES / "playwright" / "report.json"
ORIGINAL_TASKS = FIXTURES / "seed" / "real-patchtasks.json"


def error_line(capsys: pytest.CaptureFixture[str], *needles: str) -> str:
    return one_error_line(capsys.readouterr().err, *needles)


@pytest.fixture
def earlier(tmp_path: Path) -> Path:
    """out/ holding the result of an earlier good run."""
    out = tmp_path / "out"
    assert main(["normalize", "playwright", str(REPORT), "--out", str(out)]) == 0
    return out / "playwright_patchtasks.json"


# --- files that are not files -------------------------------------------------------------
@pytest.mark.timeout(20)
def test_a_device_as_the_report_is_refused_without_reading_it(
    earlier: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = earlier.read_bytes()
    capsys.readouterr()
    assert main(["normalize", "playwright", "/dev/zero", "--out", str(earlier.parent)]) == 2
    error_line(capsys, "/dev/zero", "not a regular file")
    assert earlier.read_bytes() == before


@pytest.mark.timeout(20)
def test_a_fifo_as_the_report_is_refused_without_hanging(
    earlier: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "report.json"
    os.mkfifo(fifo)
    before = earlier.read_bytes()
    capsys.readouterr()
    assert main(["normalize", "playwright", str(fifo), "--out", str(earlier.parent)]) == 2
    error_line(capsys, "FIFO")
    assert earlier.read_bytes() == before


# --- lone surrogates ----------------------------------------------------------------------
def _with_surrogates(data: object, key: str = "") -> object:
    """A truncated emoji (a lone UTF-16 surrogate, as JS clients send) after each text field."""
    if isinstance(data, str):
        return data + " \ud83d" if key in ("message", "stack", "title", "value") else data
    if isinstance(data, list):
        return [_with_surrogates(v, key) for v in data]
    if isinstance(data, dict):
        return {k: _with_surrogates(v, k) for k, v in data.items()}
    return data


def test_lone_surrogates_in_a_playwright_report_are_replaced(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    report.write_text(json.dumps(_with_surrogates(json.loads(REPORT.read_text()))), encoding="utf-8")
    assert "\\ud83d" in report.read_text()
    out = tmp_path / "out"
    assert main(["normalize", "playwright", str(report), "--out", str(out)]) == 0
    text = (out / "playwright_patchtasks.json").read_text(encoding="utf-8")
    assert "\ufffd" in text


def test_lone_surrogates_in_a_sentry_export_and_a_task_file_are_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export = tmp_path / "sentry_errors.json"
    data = json.loads((FIXTURES / "seed" / "real-sentry_errors.json").read_text())
    export.write_text(json.dumps(_with_surrogates(data)), encoding="utf-8")
    out = tmp_path / "out"
    assert (
        main(["normalize", "sentry", "--input", str(export), "--out", str(out), "--min-frequency", "0"]) == 0
    )
    tasks = json.loads((out / "patchtasks.json").read_text())
    tasks[0]["title"] += " \ud83d"
    (out / "patchtasks.json").write_text(json.dumps(tasks), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["pr", "--dry-run", "--all", "--out", str(out)]) == 0
    assert "\ufffd" in "".join(p.read_text() for p in (out / "pr_previews").glob("*.md"))


# --- PatchTask files ----------------------------------------------------------------------
def test_a_900_deep_extra_field_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tasks = json.loads(ORIGINAL_TASKS.read_text())
    deep: object = "bottom"
    for _ in range(900):
        deep = {"x": deep}
    tasks[0]["extra"] = deep
    path = tmp_path / "out" / "patchtasks.json"
    path.parent.mkdir()
    path.write_text(json.dumps(tasks))
    assert main(["pr", "--dry-run", "--out", str(path.parent)]) == 2
    error_line(capsys, "patchtasks.json", "nested")


def test_original_pipeline_tasks_are_accepted_by_pr_and_as_previous(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tasks = load_tasks(ORIGINAL_TASKS)
    assert tasks
    assert all(t.source == "sentry" and len(t.fingerprint) == 16 for t in tasks)
    assert all(t.severity_reasons == () and t.occurrences == () for t in tasks)
    out = tmp_path / "out"
    out.mkdir()
    (out / "patchtasks.json").write_bytes(ORIGINAL_TASKS.read_bytes())
    monkeypatch.chdir(tmp_path)
    assert main(["pr", "--dry-run", "--all", "--out", str(out)]) == 0
    assert len(json.loads((out / "pr_plan.json").read_text())["decisions"]) == len(tasks)
    assert len(list((out / "pr_previews").glob("*.md"))) >= 1
    new_out = tmp_path / "new"
    code = main(
        ["normalize", "playwright", str(REPORT), "--previous", str(ORIGINAL_TASKS), "--out", str(new_out)]
    )
    assert code == 0
    statuses = {t.status for t in load_tasks(new_out / "playwright_patchtasks.json")}
    assert "resolved" in statuses  # last run's (original) tasks not seen again


# --- writes -------------------------------------------------------------------------------
def test_out_naming_a_file_is_one_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    not_a_folder = tmp_path / "out"
    not_a_folder.write_text("a file")
    assert main(["normalize", "playwright", str(REPORT), "--out", str(not_a_folder)]) == 2
    error_line(capsys, str(not_a_folder))
    assert not_a_folder.read_text() == "a file"


_LIMITED_WRITE = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG, like a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))
from selfheal.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_failed_write_is_one_line_and_leaves_the_earlier_file_intact(earlier: Path) -> None:
    before = earlier.read_bytes()
    assert len(before) > 2048
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _LIMITED_WRITE,
            "normalize",
            "playwright",
            str(REPORT),
            "--out",
            str(earlier.parent),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("selfheal: error:")]
    assert len(errors) == 1
    assert "playwright_patchtasks.json" in errors[0]
    assert "earlier file is unchanged" in errors[0]
    assert earlier.read_bytes() == before
    assert not [p for p in earlier.parent.iterdir() if p.name.endswith(".tmp")]


# --- configuration ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("toml", "named"),
    [
        ('min_frequency = "two"', "min_frequency"),
        ('[pr]\ndraft = "false"', "pr.draft"),
        ('[pr]\nlabels = "selfheal"', "pr.labels"),
        ('[pr]\nbranch_prefix = "bad..name/"', "pr.branch_prefix"),
        ('[pr]\nbranch_prefix = "-x/"', "pr.branch_prefix"),
        ('default_owner = ["a"]', "default_owner"),
        ('[severity]\nusers_high = "ten"', "severity.users_high"),
        ("[severity]\ntrend_high = true", "severity.trend_high"),
        ('[[severity.rules]]\npattern = "x"\nfield = "titel"\nseverity = "blocker"', "rules[0].field"),
        ("[pr]\nmax_new = 2.5", "pr.max_new"),
        ('[pr]\nseverities = "high"', "pr.severities"),
    ],
)
def test_every_configuration_key_is_type_checked_and_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], toml: str, named: str
) -> None:
    (tmp_path / "selfheal.toml").write_text(toml)
    argv = [
        "normalize",
        "playwright",
        str(REPORT),
        "--config-root",
        str(tmp_path),
        "--out",
        str(tmp_path / "o"),
    ]
    assert main(argv) == 2
    error_line(capsys, named)
    assert not (tmp_path / "o").exists()


# --- notebook parameters ------------------------------------------------------------------
@pytest.mark.timeout(30)
def test_a_yaml_alias_bomb_is_refused_quickly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for index in range(1, 10):
        previous = chr(ord("a") + index - 1)
        name = chr(ord("a") + index)
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
    bomb = tmp_path / "params.yaml"
    bomb.write_text("\n".join(lines) + "\n")
    started = time.monotonic()
    assert main(["run", "--params", str(bomb), "--reports", str(tmp_path / "reports")]) == 2
    assert time.monotonic() - started < 10
    error_line(capsys, "params.yaml", "aliases")
    assert not (tmp_path / "reports").exists()


@pytest.mark.parametrize(("value", "declared"), [("ten", "int"), (True, "int"), (["a"], "int")])
def test_a_wrong_typed_parameter_is_named_before_any_notebook_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: object, declared: str
) -> None:
    params = tmp_path / "params.json"
    params.write_text(json.dumps({"limit": value}))
    assert main(["run", "--params", str(params), "--reports", str(tmp_path / "reports")]) == 2
    error_line(capsys, "params.limit", f"as {declared}")
    assert not (tmp_path / "reports").exists()
