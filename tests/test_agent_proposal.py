"""The pure half of the proposed-fix step: when an agent runs, and what the PR says about it."""

from __future__ import annotations

from datetime import date

from agent_repo import calc_task

from selfheal.config import Config
from selfheal.contracts import contract_errors
from selfheal.models import Evidence, Occurrence, PatchTask
from selfheal.normalize import build_tasks
from selfheal.pullrequests.plan import ExistingPr, plan_prs
from selfheal.pullrequests.proposal import (
    AgentPolicy,
    AgentResult,
    DiffStat,
    FileChange,
    Verdict,
    agent_due,
    agent_record,
    evidence_digest,
    fix_section,
    fix_section_of,
    with_fix_section,
    without_fix_section,
)
from selfheal.pullrequests.render import render_pr_body
from selfheal.sources.sentry_export import parse_sentry_export

POLICY = AgentPolicy("scripted", 5, date(2026, 12, 2))


def committed(task: PatchTask, *, passed: bool = True, output: str = "1 passed") -> AgentResult:
    return AgentResult(
        agent="scripted",
        outcome="committed",
        detail="changed 1 file",
        evidence=evidence_digest(task),
        changes=(FileChange("calc.py", b"x"),),
        stats=(DiffStat("calc.py", 1, 1),),
        tests=Verdict(("pytest", "-q"), passed, 0 if passed else 1, False, output),
        summary="Fixed add().",
        commit_sha="0123456789abcdef0123",
    )


def body_with_run(task: PatchTask, day: date) -> str:
    return with_fix_section(render_pr_body(task), fix_section(committed(task), day=day))


def test_the_section_survives_a_round_trip_through_the_body() -> None:
    task = calc_task()
    body = body_with_run(task, date(2026, 12, 1))
    record = agent_record(body)
    assert record is not None
    assert (record.day, record.evidence, record.outcome) == (
        date(2026, 12, 1),
        evidence_digest(task),
        "committed",
    )
    assert fix_section_of(body).strip().endswith("<!-- /selfheal:agent -->")
    assert without_fix_section(body) == render_pr_body(task)
    assert "commit 0123456789ab" in body


def test_an_agent_runs_for_new_prs_and_changed_tasks_at_most_weekly() -> None:
    task = calc_task()
    body = body_with_run(task, date(2026, 11, 30))
    assert agent_due("create", task, None, POLICY, task_changed=True).run
    assert not agent_due("unchanged", task, body, POLICY, task_changed=False).run
    assert not agent_due("update", task, body, POLICY, task_changed=False).run
    assert not agent_due("update", task, body, POLICY, task_changed=True).run  # ran two days ago
    week_later = AgentPolicy("scripted", 5, date(2026, 12, 7))
    assert agent_due("update", task, body, week_later, task_changed=True).run
    new_evidence = task.with_changes(evidence=Evidence(message="a different stack"))
    assert agent_due("update", new_evidence, body, POLICY, task_changed=True).run
    assert agent_due("update", task, render_pr_body(task), POLICY, task_changed=True).run  # never ran
    resolved = task.with_changes(status="resolved")
    assert not agent_due("update", resolved, render_pr_body(task), POLICY, task_changed=True).run


def test_the_digest_ignores_counts_but_not_evidence() -> None:
    task = calc_task()
    assert evidence_digest(task) == evidence_digest(task.with_changes(frequency=999, last_seen="2027-01-01"))
    assert evidence_digest(task) != evidence_digest(task.with_changes(culprit="calc.add"))


def test_the_planner_keeps_the_section_and_caps_runs() -> None:
    tasks = [calc_task(n) for n in (1, 2, 3)]
    body = body_with_run(tasks[0], date(2026, 12, 1))
    existing = [ExistingPr(number=7, branch="selfheal/x", state="open", body=body, title="t")]
    plan = plan_prs(tasks, existing, agent=AgentPolicy("scripted", 1, date(2026, 12, 2)))
    by_task = {d.task.id: d for d in plan.decisions}
    first = by_task[tasks[0].id]
    assert (first.action, first.body_changed, first.agent_run) == ("update", False, False)  # labels only
    assert fix_section_of(first.body) == fix_section_of(body)
    created = [d for d in plan.decisions if d.action == "create"]
    assert [d.agent_run for d in created] == [True, False]
    assert "limit of 1 agent runs" in created[1].agent_reason
    assert all("agent" not in d.to_json() for d in plan_prs(tasks, existing).decisions)


def test_failing_tests_and_refusals_are_said_plainly() -> None:
    task = calc_task()
    failing = fix_section(committed(task, passed=False, output="AssertionError: 6 != 5"), day=POLICY.today)
    assert "**tests failing** (exit 1)" in failing
    assert "AssertionError: 6 != 5" in failing
    refused = AgentResult("scripted", "refused", "refused a change to .github/workflows/ci.yml", "ab12cd34")
    line = fix_section(refused, day=POLICY.today)
    assert len([x for x in line.splitlines() if x and not x.startswith("<!--")]) == 1
    assert "no commit was made" in line
    assert refused.line() == "refused: refused a change to .github/workflows/ci.yml"


def test_sentry_tasks_say_fixes_for_each_merged_issue(fixtures: object) -> None:
    from pathlib import Path

    from selfheal.pipeline import sample_path
    from selfheal.storage import read_json

    data = read_json(Path(sample_path("sentry_errors.json")))
    failures = parse_sentry_export(data, Path("sentry_errors.json"))
    tasks = build_tasks(failures, Config(), min_frequency=1)
    merged = next(t for t in tasks if len({o.id for o in t.occurrences if o.source == "sentry"}) > 1)
    body = render_pr_body(merged)
    short_ids = [o.short_id for o in merged.occurrences if o.source == "sentry"]
    assert all(short_ids)
    for short_id in short_ids:
        assert f"\nFixes {short_id}\n" in body
    assert contract_errors(merged.to_json()) == []
    plain = merged.with_changes(occurrences=(Occurrence("playwright", "spec-1", "chromium"),))
    assert "Fixes " not in render_pr_body(plain)


def test_an_older_tasks_file_without_short_ids_merges_into_the_same_occurrence() -> None:
    from selfheal.normalize import merge_tasks

    newer = calc_task(occurrences=(Occurrence("sentry", "100", short_id="SHOP-API-1"),))
    older = calc_task(occurrences=(Occurrence("sentry", "100"),))
    (merged,) = merge_tasks([newer, older])
    assert merged.occurrences == (Occurrence("sentry", "100", short_id="SHOP-API-1"),)
    assert merged.frequency == newer.frequency
