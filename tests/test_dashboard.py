"""Issue 13: reports/index.html is a Monday dashboard, not a run log: trends across runs,
the latest top tasks with their PR and Sentry links, a legend, relative paths, history kept
across CI runs (reports/history.json), and the last run's tasks as `previous` by default."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from team_repo import bars_of

from selfheal.reporting.index import Headline, NotebookRecord, RunRecord, render_index
from selfheal.runner import rebuild_index

FIXTURES = Path(__file__).parent / "fixtures" / "real_use"
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
OK = (NotebookRecord(name="01-pull", status="ok", html="01-pull.html"),)


def record(run_id: str, started: str, by_severity: dict[str, int], by_status: dict[str, int]) -> RunRecord:
    return RunRecord(
        run_id=run_id,
        started=started,
        finished=started,
        params={"out_dir": "out"},
        notebooks=OK,
        headline=Headline(
            tasks=sum(by_severity.values()),
            events=10,
            by_severity=by_severity,
            by_status=by_status,
        ),
        data=({"kind": "sentry", "origin": "sentry", "path": "out/sentry_errors.json", "pulled": started},),
        top_tasks=(
            {
                "title": f"KeyError in {run_id}",
                "severity": "high",
                "status": "new",
                "frequency": 5,
                "users": 2,
                "owner": "api",
                "source": "sentry",
                "sentryUrl": "https://acme.sentry.io/issues/9002/",
                "prUrl": "https://github.com/acme/api/pull/17",
            },
        ),
    )


def test_the_index_draws_trends_across_runs_with_a_legend_and_the_latest_top_tasks() -> None:
    runs = [
        record("w1", "2026-11-02T09:00:00+00:00", {"high": 3, "low": 1}, {"new": 4}),
        record(
            "w2",
            "2026-11-09T09:00:00+00:00",
            {"high": 2, "blocker": 1},
            {"ongoing": 2, "new": 1, "resolved": 1},
        ),
        record(
            "w3", "2026-11-16T09:00:00+00:00", {"medium": 2}, {"ongoing": 1, "regressed": 1, "resolved": 2}
        ),
    ]
    page = render_index(runs)
    severity = bars_of(page, "Open tasks by severity")
    assert "w1: 3 high" in severity
    assert "w2: 1 blocker" in severity
    assert "w3: 2 medium" in severity
    changes = bars_of(page, "New, regressed and resolved per run")
    assert {"w1: 4 new", "w2: 1 resolved", "w3: 1 regressed", "w3: 2 resolved"} <= set(changes)
    assert not [bar for bar in changes if "ongoing" in bar]
    # The legend names every colour and what each status means.
    for word in ("blocker", "high", "medium", "low", "new", "regressed", "resolved", "was resolved, is back"):
        assert word in page
    # The latest run's top tasks with links to the PR and to Sentry.
    assert "KeyError in w3" in page
    assert "KeyError in w1" not in page
    assert 'href="https://github.com/acme/api/pull/17"' in page
    assert 'href="https://acme.sentry.io/issues/9002/"' in page


def test_a_failed_run_never_reads_zero_tasks() -> None:
    failed = RunRecord(
        run_id="broken",
        started="2026-11-23T09:00:00+00:00",
        finished="2026-11-23T09:00:05+00:00",
        params={},
        notebooks=(NotebookRecord(name="01-pull", status="failed", error="SentryError: 404"),),
        counted=False,
    )
    page = render_index([record("w1", "2026-11-16T09:00:00+00:00", {"high": 1}, {"new": 1}), failed])
    assert "0 open tasks" not in page
    assert "0 tasks · 0 events" not in page
    assert "no numbers: this run wrote no PatchTasks (failed at 01-pull)" in page
    assert not [bar for bar in bars_of(page, "Open tasks by severity") if bar.startswith("broken")]


def test_history_json_keeps_runs_whose_folders_are_gone(tmp_path: Path) -> None:
    """What CI does: only reports/history.json is restored from the previous run."""
    last_week = tmp_path / "last-week"
    for run in (
        record("w1", "2026-11-02T09:00:00+00:00", {"high": 3}, {"new": 3}),
        record("w2", "2026-11-09T09:00:00+00:00", {"high": 2}, {"ongoing": 2, "resolved": 1}),
    ):
        (last_week / run.run_id).mkdir(parents=True)
        (last_week / run.run_id / "run.json").write_text(json.dumps(run.to_json()), encoding="utf-8")
    rebuild_index(last_week)

    this_week = tmp_path / "reports"
    (this_week / "w3").mkdir(parents=True)
    shutil.copy(last_week / "history.json", this_week / "history.json")
    run = record("w3", "2026-11-16T09:00:00+00:00", {"low": 1}, {"ongoing": 1, "resolved": 1})
    (this_week / "w3" / "run.json").write_text(json.dumps(run.to_json()), encoding="utf-8")
    page = rebuild_index(this_week).read_text(encoding="utf-8")
    assert [r["runId"] for r in json.loads((this_week / "history.json").read_text())["runs"]] == [
        "w1",
        "w2",
        "w3",
    ]
    severity = bars_of(page, "Open tasks by severity")
    assert {"w1: 3 high", "w2: 2 high", "w3: 1 low"} <= set(severity)
    assert "3 run(s)" in page
    assert 'href="w3/01-pull.html"' in page
    assert 'href="w1/' not in page, "no dead link to a run whose reports are gone"


def test_top_tasks_link_tests_to_their_file_and_line_and_skip_resolved_ones() -> None:
    from selfheal.config import Config
    from selfheal.normalize import build_tasks
    from selfheal.reporting.index import top_tasks_of
    from selfheal.sources.playwright import load_playwright_report

    tasks = build_tasks(load_playwright_report(FIXTURES / "playwright-report.json"), Config())
    tasks[0] = tasks[0].with_changes(status="resolved")
    top = top_tasks_of(tasks, limit=100, blob_url="https://github.com/acme/shop/blob/HEAD")
    assert len(top) == len(tasks) - 1
    assert tasks[0].title not in {t["title"] for t in top}
    for row in top:
        task = next(t for t in tasks if t.fingerprint == row["fingerprint"])
        frame = next(f for f in task.evidence.frames if f.path)
        assert row["codeUrl"] == f"https://github.com/acme/shop/blob/HEAD/{frame.path}#L{frame.lineno}"
    page = render_index([RunRecord("r", "2026-11-30T09:00:00", "", {}, OK, top_tasks=top)])
    assert page.count(">code</a>") == len(top)
