"""The PR planner: one decision per task, with its reason (pure; no GitHub)."""

from __future__ import annotations

from typing import Any

from task_builders import make_task

from selfheal.models import PatchTask
from selfheal.pullrequests.plan import ExistingPr, PrPlan, plan_prs
from selfheal.pullrequests.render import branch_name, render_pr_body


def open_pr_for(task: PatchTask, number: int, *, body: str | None = None, **changes: Any) -> ExistingPr:
    fields: dict[str, Any] = {
        "number": number,
        "branch": branch_name(task),
        "state": "open",
        "body": render_pr_body(task) if body is None else body,
        "labels": ("selfheal", f"severity:{task.severity}", "source:sentry"),
        "draft": True,
    }
    return ExistingPr(**{**fields, **changes})


def actions(plan: PrPlan) -> list[tuple[str, str]]:
    return [(d.task.id, d.action) for d in plan.decisions]


def test_default_filter_is_blocker_and_high_sorted_by_severity_then_frequency() -> None:
    tasks = [
        make_task(1, "medium", 500),
        make_task(2, "high", 5),
        make_task(3, "blocker", 1),
        make_task(4, "high", 50),
        make_task(5, "low", 900),
    ]
    plan = plan_prs(tasks, [])
    assert actions(plan) == [
        ("sentry-3", "create"),
        ("sentry-4", "create"),
        ("sentry-2", "create"),
        ("sentry-1", "skip"),
        ("sentry-5", "skip"),
    ]
    assert "severity medium not selected" in plan.decisions[3].reason
    every = plan_prs(tasks, [], severities=("blocker", "high", "medium", "low"))
    assert every.count("create") == 5
    only_medium = plan_prs(tasks, [], severities=("medium",))
    assert ("sentry-1", "create") in actions(only_medium)
    assert only_medium.count("create") == 1


def test_max_new_counts_only_creations() -> None:
    tasks = [make_task(n) for n in range(8)]
    existing = [open_pr_for(tasks[0], 1, body="old body")]
    plan = plan_prs(tasks, existing, max_new=5)
    assert plan.count("update") == 1
    assert plan.count("create") == 5
    assert plan.count("skip") == 2
    assert all("limit of 5 new PRs" in d.reason for d in plan.decisions if d.action == "skip")
    assert plan_prs(tasks, [], max_new=0).count("create") == 0


def test_open_pr_is_updated_only_when_its_body_or_labels_differ() -> None:
    task = make_task(1)
    same = plan_prs([task], [open_pr_for(task, 7)])
    assert actions(same) == [("sentry-1", "unchanged")]
    assert same.decisions[0].pr_number == 7
    more = task.with_changes(frequency=99)
    changed = plan_prs([more], [open_pr_for(task, 7)])
    decision = changed.decisions[0]
    assert (decision.action, decision.body_changed, decision.missing_labels) == ("update", True, ())
    assert "| Frequency | 99 events |" in decision.body
    unlabelled = plan_prs([task], [open_pr_for(task, 7, labels=("selfheal",))]).decisions[0]
    assert unlabelled.action == "update"
    assert not unlabelled.body_changed
    assert unlabelled.missing_labels == ("severity:high", "source:sentry")


def test_open_prs_stay_fresh_even_outside_the_severity_filter() -> None:
    task = make_task(1, "low")
    plan = plan_prs([task.with_changes(frequency=3)], [open_pr_for(task, 4)])
    assert actions(plan) == [("sentry-1", "update")]


def test_an_open_pr_is_found_by_marker_even_on_another_branch() -> None:
    task = make_task(1)
    moved = open_pr_for(task, 3, branch="someone/renamed")
    assert actions(plan_prs([task], [moved])) == [("sentry-1", "unchanged")]


def test_regression_comments_once() -> None:
    task = make_task(1)
    regressed = task.with_changes(status="regressed", frequency=30)
    first = plan_prs([regressed], [open_pr_for(task, 2)]).decisions[0]
    assert first.action == "update"
    assert first.comment is not None
    assert "regressed" in first.comment
    again = plan_prs([regressed.with_changes(frequency=31)], [open_pr_for(regressed, 2)]).decisions[0]
    assert again.action == "update"
    assert again.comment is None


def test_resolved_task_gets_one_comment_and_is_closed_only_when_asked() -> None:
    task = make_task(1)
    resolved = task.with_changes(status="resolved")
    plan = plan_prs([resolved], [open_pr_for(task, 2)]).decisions[0]
    assert plan.action == "update"
    assert plan.comment is not None
    assert "resolved" in plan.comment
    assert not plan.close
    closing = plan_prs([resolved], [open_pr_for(task, 2)], close_resolved=True).decisions[0]
    assert closing.close
    assert "--close-resolved" in (closing.comment or "")
    later = plan_prs([resolved], [open_pr_for(resolved, 2)]).decisions[0]
    assert later.action == "unchanged"
    assert actions(plan_prs([resolved], [])) == [("sentry-1", "skip")]


def test_closed_prs_are_respected_unless_the_error_regressed_after_the_close() -> None:
    task = make_task(1)
    closed = open_pr_for(task, 5, state="closed", closed_at="2026-01-01T00:00:00Z")
    skipped = plan_prs([task], [closed]).decisions[0]
    assert skipped.action == "skip"
    assert "closed without merge" in skipped.reason
    merged = plan_prs(
        [task], [open_pr_for(task, 5, state="closed", merged=True, closed_at="2026-01-01T00:00:00Z")]
    )
    assert "was merged" in merged.decisions[0].reason
    old_regression = task.with_changes(status="regressed", last_seen="2025-12-01T00:00:00Z")
    assert plan_prs([old_regression], [closed]).decisions[0].action == "skip"
    came_back = task.with_changes(status="regressed")
    decision = plan_prs([came_back], [closed]).decisions[0]
    assert decision.action == "create"
    assert decision.previous_pr == 5
    assert "after #5 was closed" in decision.body
    assert decision.branch == f"{branch_name(task)}-after-5"
    # The new PR, once open, is found by its marker and keeps linking the old one: unchanged.
    reopened = ExistingPr(
        number=9,
        branch=decision.branch,
        state="open",
        body=decision.body,
        labels=("selfheal", "severity:high", "source:sentry"),
    )
    assert actions(plan_prs([came_back], [closed, reopened])) == [("sentry-1", "unchanged")]


def test_tasks_sharing_a_short_fingerprint_get_full_branches() -> None:
    a = make_task(1, fingerprint="abcdef012345" + "0" * 20)
    b = make_task(2, fingerprint="abcdef012345" + "1" * 20)
    branches = {d.task.id: d.branch for d in plan_prs([a, b], []).decisions}
    assert branches == {"sentry-1": f"selfheal/{a.fingerprint}", "sentry-2": f"selfheal/{b.fingerprint}"}
    assert plan_prs([a], []).decisions[0].branch == "selfheal/abcdef012345"


def test_plan_json_records_every_decision() -> None:
    tasks = [make_task(1), make_task(2, "low")]
    data = plan_prs(tasks, []).to_json()
    assert data["counts"] == {"create": 1, "update": 0, "unchanged": 0, "skip": 1}
    assert [d["action"] for d in data["decisions"]] == ["create", "skip"]
    first = data["decisions"][0]
    assert first["fingerprint"] == tasks[0].fingerprint
    assert first["labels"] == ["selfheal", "severity:high", "source:sentry"]
    assert first["taskFile"] == f".selfheal/tasks/{tasks[0].fingerprint}.md"
    assert all(d["reason"] for d in data["decisions"])


def test_duplicate_tasks_give_one_decision() -> None:
    task = make_task(1)
    assert len(plan_prs([task, task], []).decisions) == 1


def test_a_title_a_person_rewrote_is_kept() -> None:
    task = make_task(1)
    ours = plan_prs(
        [task.with_changes(severity="blocker")], [open_pr_for(task, 2, title="[selfheal] high: old")]
    )
    assert ours.decisions[0].title_changed
    theirs = plan_prs(
        [task.with_changes(severity="blocker")], [open_pr_for(task, 2, title="Fix checkout crash")]
    )
    assert not theirs.decisions[0].title_changed
    assert theirs.decisions[0].action == "update"  # body and labels still follow the task


def test_regression_after_close_compares_times_not_strings() -> None:
    task = make_task(1, status="regressed", last_seen="2026-01-05T00:00:00.500+00:00")
    closed = open_pr_for(task, 5, state="closed", closed_at="2026-01-05T00:00:00Z")
    assert plan_prs([task], [closed]).decisions[0].action == "create"
    earlier = task.with_changes(last_seen="2026-01-05T01:00:00+02:00")  # 23:00 the day before, UTC
    assert plan_prs([earlier], [closed]).decisions[0].action == "skip"
