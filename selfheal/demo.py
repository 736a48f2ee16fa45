"""``selfheal demo``: the whole pipeline on bundled sample data, with no credentials and no network.

1. pull   — the built-in Sentry simulator serves ``data/sample/sentry_errors.json`` on
             127.0.0.1; the real client pulls it (pagination, concurrency, retries) into
             ``out/sentry_errors.json``.
2. normalize — Sentry alone (``out/patchtasks.json``, like the original); "last week"
             (Sentry + the week-1 Playwright report, ``out/previous/patchtasks.json``); then
             this week: the week-2 report alone (``out/playwright_patchtasks.json``) and merged
             with Sentry (``out/patchtasks.json``), each task marked new / ongoing /
             regressed / resolved against last week.
3. run    — the notebooks execute with papermill into ``reports/<run-id>/`` (+ HTML) and
             ``reports/index.html`` is rewritten.
4. pr     — a dry run: ``out/pr_plan.json`` and ``out/pr_previews/*.md``; nothing remote.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from selfheal.config import load_config
from selfheal.pipeline import normalize, pull_sample, sample_path
from selfheal.project import in_project, project_root, relative_to_project

__all__ = ["DemoResult", "run_demo"]


@dataclass(frozen=True, slots=True)
class DemoResult:
    out_dir: Path
    reports_dir: Path
    index: Path
    tasks: int
    planned_prs: int


def run_demo(
    *,
    out_dir: Path = Path("out"),
    reports_dir: Path = Path("reports"),
    notebooks_dir: Path | None = None,
    say: Callable[[str], None] = print,
    run_notebooks: bool = True,
) -> DemoResult:
    """Run every stage on the bundled sample data and say where the outputs are."""
    from selfheal.pullrequests.run import run_pr

    out_dir, reports_dir = in_project(out_dir), in_project(reports_dir)  # from any sub-folder
    say("1/4 pull: built-in Sentry simulator on 127.0.0.1 -> real client")
    report = pull_sample(out_dir, progress=False)
    say(f"    {report.summary()}")

    week1, week2 = sample_path("playwright-report.json"), sample_path("playwright-report-week2.json")
    previous = out_dir / "previous" / "patchtasks.json"
    say("2/4 normalize: Sentry and Playwright, alone and merged (cross-source dedup), week over week")
    sentry_only = normalize(out_dir, sentry=report.path)
    say(f"    sentry:       {sentry_only.summary()}")
    last_week = normalize(out_dir, sentry=report.path, playwright=week1, output=previous)
    say(f"    last week:    {last_week.summary()}")
    playwright = normalize(out_dir, playwright=week2)
    say(f"    playwright:   {playwright.summary()}")
    merged = normalize(out_dir, sentry=report.path, playwright=week2, previous=previous)
    say(f"    this week:    {merged.summary()}")
    statuses = ", ".join(f"{n} {status}" for status, n in sorted(merged.by_status.items()))
    say(f"    week over week: {statuses}")

    index = reports_dir / "index.html"
    if run_notebooks:
        from selfheal.runner import run_notebooks as execute

        say("3/4 run: executing notebooks with papermill, rendering offline HTML")
        result = execute(
            notebooks_dir,
            reports_dir,
            # The same inputs as above, so the reports show what the files say.
            params={
                "source": "sample",
                "playwright_report": str(week2),
                "previous_tasks": str(previous.resolve()),
                "junit_report": "",  # the demo's inputs only, whatever else lies in the folder
            },
            out_dir=out_dir,
            progress=lambda line: say(f"    {line}"),
        )
        say(f"    {len(result.record.notebooks)} notebooks -> {result.run_dir}")
        index = result.index

    say("4/4 pr --dry-run: planning draft PRs (no GitHub request)")
    pr_report = run_pr(out_dir, load_config(project_root()), dry_run=True, list_existing=False)
    say(f"    {pr_report.summary()}")

    rows = [
        (out_dir / "sentry_errors.json", "raw Sentry issues + latest events"),
        (
            out_dir / "patchtasks.json",
            f"merged PatchTasks ({merged.tasks - merged.by_status.get('resolved', 0)} open, "
            f"{merged.by_status.get('resolved', 0)} resolved since last week)",
        ),
        (previous, "last week's PatchTasks (Sentry + the week-1 Playwright report)"),
        (out_dir / "playwright_patchtasks.json", f"Playwright PatchTasks ({playwright.tasks})"),
        (out_dir / "pr_plan.json", "the PR plan"),
        (out_dir / "pr_previews", f"one markdown preview per planned PR ({pr_report.planned})"),
    ]
    if run_notebooks:
        rows.append((index, "the reports: open in a browser (works offline)"))
    shown = [(relative_to_project(path), what) for path, what in rows]
    width = max(len(path) for path, _ in shown)
    say("")
    say("Outputs:")
    for path, what in shown:
        say(f"  {path:<{width}}  {what}")
    return DemoResult(
        out_dir=out_dir,
        reports_dir=reports_dir,
        index=index,
        tasks=merged.tasks,
        planned_prs=pr_report.planned,
    )
