"""Notebooks 02 and 03 hold literals and calls only: what a literal stands for ("-1" for the
default) is decoded by the function the notebook calls, and thresholds come from selfheal.dedup."""

from __future__ import annotations

import ast
import inspect
import json
from pathlib import Path

import nbformat
import pytest
from task_builders import make_task
from triage_builders import PyFrame, Spec, playwright_failures, sentry_failures, sentry_issue

from selfheal import headline_of, pipeline, severity_reasons_table
from selfheal.config import Config
from selfheal.dedup import NEAR_DUPLICATE_THRESHOLD, SAME_BUG_THRESHOLD, near_duplicates
from selfheal.normalize import build_tasks
from selfheal.sources.playwright import load_playwright_report
from selfheal.sources.sentry_export import load_sentry_export

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

#: What a notebook cell may hold besides names, literals, attribute access and calls.
_ALLOWED = (
    ast.Module,
    ast.Expr,
    ast.Assign,
    ast.AnnAssign,
    ast.ImportFrom,
    ast.alias,
    ast.Call,
    ast.keyword,
    ast.Attribute,
    ast.Name,
    ast.Load,
    ast.Store,
    ast.Constant,
    ast.UnaryOp,  # -1
    ast.USub,
    ast.List,
    ast.Tuple,
)


@pytest.mark.parametrize("name", ["02-normalize", "03-analyze"])
def test_cells_are_literals_and_calls_only(name: str) -> None:
    notebook = nbformat.read(str(NOTEBOOKS / f"{name}.ipynb"), as_version=4)
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            assert isinstance(node, _ALLOWED), f"{name}: {ast.unparse(node)[:80]!r} in a cell"


def test_notebook_03_does_not_restate_the_thresholds() -> None:
    text = (NOTEBOOKS / "03-analyze.ipynb").read_text(encoding="utf-8")
    assert str(NEAR_DUPLICATE_THRESHOLD) not in text
    assert str(SAME_BUG_THRESHOLD) not in text


def _frequencies(path: Path) -> list[int]:
    return sorted(t["frequency"] for t in json.loads(path.read_text()))


def test_normalize_run_takes_the_notebook_literal_minus_one_as_the_default(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "sentry_errors.json").write_bytes(pipeline.sample_path("sentry_errors.json").read_bytes())
    env = {"SELFHEAL_PROJECT_ROOT": str(tmp_path), "SENTRY_ERROR_MIN_FREQUENCY": "50"}

    def run(min_frequency: int) -> None:
        pipeline.normalize_run(
            out,
            playwright_report="",
            junit_report="",
            previous_tasks="",
            min_frequency=min_frequency,
            environ=env,
        )

    run(-1)
    from_env = _frequencies(out / "patchtasks.json")
    assert from_env
    assert min(from_env) >= 50
    run(0)
    everything = _frequencies(out / "patchtasks.json")
    assert len(everything) > len(from_env)
    assert min(everything) < 50


def test_the_duplicate_threshold_literal_minus_one_is_dedups_default() -> None:
    assert pipeline.duplicate_threshold(-1.0) == NEAR_DUPLICATE_THRESHOLD
    assert pipeline.duplicate_threshold(-1) == NEAR_DUPLICATE_THRESHOLD
    assert pipeline.duplicate_threshold(0.0) == 0.0
    assert pipeline.duplicate_threshold(0.75) == 0.75


def test_dedup_uses_its_exported_thresholds() -> None:
    assert inspect.signature(near_duplicates).parameters["threshold"].default == NEAR_DUPLICATE_THRESHOLD
    failures = load_sentry_export(pipeline.sample_path("sentry_errors.json"))
    failures += load_playwright_report(pipeline.sample_path("playwright-report.json"))
    # A test showing a KeyError two Sentry issues raise: pairs above the likely-same threshold.
    failures += sentry_failures(
        sentry_issue("1", "KeyError", "'ACME-7'", [PyFrame("billing.discounts", "lookup_code", 41)]),
        sentry_issue("2", "KeyError", "'ORD-1'", [PyFrame("orders.store", "load_order", 12)]),
    )
    shown = (
        "Error: expect(locator).toHaveText(expected) failed\n\n"
        "Received: \"Internal error: KeyError: 'ZED-9'\""
    )
    failures += playwright_failures([Spec("checkout.spec.ts", ("Checkout", "applies a code"), shown)])
    tasks = build_tasks(failures, Config(), min_frequency=0)
    every = near_duplicates(tasks, threshold=0.0, limit=10**6)
    scores = every["score"].to_list()
    assert min(scores) < NEAR_DUPLICATE_THRESHOLD
    assert max(scores) >= SAME_BUG_THRESHOLD
    for row in every.iter_rows(named=True):
        likely = row["suggestion"].startswith("likely the same bug")
        assert likely == (row["score"] >= SAME_BUG_THRESHOLD), row
    offered = near_duplicates(tasks, limit=10**6)
    assert offered.height == every.filter(every["score"] >= NEAR_DUPLICATE_THRESHOLD).height


def test_severity_reasons_table_lists_open_tasks_with_their_reasons() -> None:
    tasks = [make_task(1, "blocker"), make_task(2, "low", status="resolved"), make_task(3, "medium")]
    table = severity_reasons_table(tasks, limit=30)
    assert table.columns == ("severity", "title", "why", "merged")
    assert [[cell.text for cell in row] for row in table.rows] == [
        ["blocker", "TypeError number 1", "rule: blocker", "1"],
        ["medium", "TypeError number 3", "rule: medium", "1"],
    ]
    assert table.caption == "Severity reasons (open tasks)"
    assert len(severity_reasons_table(tasks, limit=1)) == 1


def test_the_headline_summary_is_the_two_lines_the_analyze_notebook_prints() -> None:
    tasks = [
        make_task(1, "blocker", frequency=4),
        make_task(2, "low", status="resolved"),
        make_task(3, "high"),
    ]
    assert headline_of(tasks).summary().splitlines() == [
        "2 open tasks, 14 events; open by severity {'blocker': 1, 'high': 1}",
        "1 resolved since the last run (counted only in the week-over-week view)",
    ]
