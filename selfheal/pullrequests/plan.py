"""Decide, for every PatchTask, what to do on GitHub (pure; dry run and real mode share it).

Rules, in order, for each task (most severe first, then most frequent):

1. An **open** PR for the task's fingerprint (found by body marker or branch name):
   ``update`` when the rendered title, body or labels differ (plus one comment when the task
   regressed, or became resolved, since the body was written), else ``unchanged``. A resolved
   task's PR is closed only with ``close_resolved``. Open PRs are kept fresh whatever the
   severity filter says.
2. A resolved task without an open PR: ``skip``.
3. A task outside the selected severities: ``skip``.
4. A **closed** PR (merged or not) for the fingerprint: ``skip`` (people decided), unless the
   task regressed after the close: then ``create`` a new PR that links the old one.
5. Otherwise ``create``, while fewer than ``max_new`` creations are planned; then ``skip``.

With a coding agent configured (``agent``), each created PR, and each updated PR whose task
changed, is marked for an agent run (:func:`~selfheal.pullrequests.proposal.agent_due`: at most
once a week unless the evidence changed), the first ``max_runs`` of them only. An open PR's
"Proposed fix" section is kept when its body is re-rendered.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from selfheal.models import PatchTask, severity_rank
from selfheal.pullrequests.proposal import AgentPolicy, agent_due, fix_section_of, with_fix_section
from selfheal.pullrequests.render import (
    MAX_BODY_CHARS,
    LabelSpec,
    branch_name,
    labels_for,
    marked_fingerprint,
    marked_status,
    normalized_fingerprint,
    pr_title,
    render_pr_body,
    render_regressed_comment,
    render_resolved_comment,
    short_fingerprint,
    task_file_path,
)

__all__ = ["Action", "ExistingPr", "PrDecision", "PrPlan", "plan_prs"]

Action = Literal["create", "update", "unchanged", "skip"]


@dataclass(frozen=True, slots=True)
class ExistingPr:
    """A selfheal PR already on GitHub, as the one listing of the run saw it."""

    number: int
    branch: str
    state: str  # "open" | "closed"
    body: str = ""
    title: str = ""
    merged: bool = False
    closed_at: str | None = None
    labels: tuple[str, ...] = ()
    draft: bool = False
    url: str = ""

    @property
    def fingerprint(self) -> str | None:
        return marked_fingerprint(self.body)


@dataclass(frozen=True, slots=True)
class PrDecision:
    """What happens to one task, and why."""

    action: Action
    reason: str
    task: PatchTask
    branch: str
    title: str
    labels: tuple[LabelSpec, ...] = ()
    body: str = ""
    pr_number: int | None = None
    #: Web address of the PR this decision is about (empty when none exists yet).
    pr_url: str = ""
    previous_pr: int | None = None
    #: Labels the open PR lacks (update only).
    missing_labels: tuple[str, ...] = ()
    #: selfheal labels the open PR carries but should not any more (severity or source moved).
    stale_labels: tuple[str, ...] = ()
    body_changed: bool = False
    title_changed: bool = False
    comment: str | None = None
    close: bool = False
    task_file: str = ""
    #: The configured coding agent runs for this PR (see :func:`plan_prs`).
    agent_run: bool = False
    #: Why it runs or not; empty when no agent is configured.
    agent_reason: str = ""

    @property
    def fingerprint(self) -> str:
        return self.task.fingerprint

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "reason": self.reason,
            "fingerprint": self.task.fingerprint,
            "taskId": self.task.id,
            "severity": self.task.severity,
            "frequency": self.task.frequency,
            "status": self.task.status,
            "title": self.title,
            "branch": self.branch,
            "labels": [label.name for label in self.labels],
            "prNumber": self.pr_number,
            "prUrl": self.pr_url or None,
            "previousPr": self.previous_pr,
            "bodyChanged": self.body_changed,
            "missingLabels": list(self.missing_labels),
            "staleLabels": list(self.stale_labels),
            "titleChanged": self.title_changed,
            "comment": self.comment is not None,
            "close": self.close,
            "taskFile": self.task_file,
            "bodyChars": len(self.body),
            **({"agent": {"run": self.agent_run, "reason": self.agent_reason}} if self.agent_reason else {}),
        }


@dataclass(frozen=True, slots=True)
class PrPlan:
    decisions: tuple[PrDecision, ...]
    severities: tuple[str, ...]
    max_new: int
    draft: bool
    close_resolved: bool
    #: Whether existing PRs were listed (False in a dry run without GitHub access).
    listed: bool = True
    notes: tuple[str, ...] = field(default=())

    def count(self, action: Action) -> int:
        return sum(1 for d in self.decisions if d.action == action)

    def to_json(self) -> dict[str, Any]:
        return {
            "severities": list(self.severities),
            "maxNew": self.max_new,
            "draft": self.draft,
            "closeResolved": self.close_resolved,
            "existingPrsListed": self.listed,
            "notes": list(self.notes),
            "counts": {a: self.count(a) for a in ("create", "update", "unchanged", "skip")},
            "decisions": [d.to_json() for d in self.decisions],
        }


def _later(when: str, than: str | None) -> bool:
    """``when`` is after ``than`` (ISO 8601 times; a missing ``than`` is the distant past)."""
    if not than:
        return True
    try:
        a, b = datetime.fromisoformat(when), datetime.fromisoformat(than)
        return (a if a.tzinfo else a.replace(tzinfo=UTC)) > (b if b.tzinfo else b.replace(tzinfo=UTC))
    except ValueError:
        return when > than


def _normalized(body: str) -> str:
    return "\n".join(line.rstrip() for line in body.replace("\r\n", "\n").split("\n")).strip()


def _sort_key(task: PatchTask) -> tuple[int, int, str]:
    return (severity_rank(task.severity), -task.frequency, task.fingerprint)


def _find(
    prs: Sequence[ExistingPr], fingerprint: str, branch: str
) -> tuple[ExistingPr | None, ExistingPr | None]:
    """(open PR, most recently closed PR) for a task; marker first, branch name second."""
    mine = [p for p in prs if p.fingerprint == normalized_fingerprint(fingerprint)]
    mine += [p for p in prs if p.fingerprint is None and p.branch == branch and p not in mine]
    open_pr = min((p for p in mine if p.state == "open"), key=lambda p: p.number, default=None)
    closed = max((p for p in mine if p.state != "open"), key=lambda p: p.closed_at or "", default=None)
    return open_pr, closed


@dataclass(frozen=True, slots=True)
class _Options:
    selected: frozenset[str]
    severities: tuple[str, ...]
    close_resolved: bool
    labels: tuple[str, ...]
    branch_prefix: str
    secrets: tuple[str, ...]
    #: Short fingerprints shared by more than one task: those tasks get full-length branches.
    ambiguous: frozenset[str] = frozenset()


def plan_prs(
    tasks: Iterable[PatchTask],
    existing_prs: Iterable[ExistingPr],
    *,
    severities: Sequence[str] = ("blocker", "high"),
    max_new: int = 5,
    draft: bool = True,
    close_resolved: bool = False,
    labels: Sequence[str] = ("selfheal",),
    branch_prefix: str = "selfheal/",
    secrets: Sequence[str] = (),
    listed: bool = True,
    agent: AgentPolicy | None = None,
) -> PrPlan:
    """One decision per task (see the module docstring for the rules)."""
    prs = list(existing_prs)
    tasks = list(tasks)
    shorts = Counter(short_fingerprint(t.fingerprint) for t in {t.fingerprint: t for t in tasks}.values())
    options = _Options(
        ambiguous=frozenset(s for s, n in shorts.items() if n > 1),
        selected=frozenset(s.lower() for s in severities),
        severities=tuple(severities),
        close_resolved=close_resolved,
        labels=tuple(labels),
        branch_prefix=branch_prefix,
        secrets=tuple(secrets),
    )
    decisions: list[PrDecision] = []
    planned_new = 0
    seen: set[str] = set()
    for task in sorted(tasks, key=_sort_key):
        if task.fingerprint in seen:
            continue  # the same task listed twice (two input files): one decision
        seen.add(task.fingerprint)
        decision = _decide(task, prs, options)
        if decision.action == "create":
            if planned_new >= max_new:
                decision = replace(
                    decision,
                    action="skip",
                    reason=f"limit of {max_new} new PRs per run reached",
                    body="",
                    task_file="",
                )
            else:
                planned_new += 1
        decisions.append(decision)
    if agent is not None:
        decisions = _with_agent_runs(decisions, prs, agent)
    return PrPlan(
        decisions=tuple(decisions),
        severities=tuple(severities),
        max_new=max_new,
        draft=draft,
        close_resolved=close_resolved,
        listed=listed,
    )


def _with_agent_runs(
    decisions: list[PrDecision], prs: Sequence[ExistingPr], agent: AgentPolicy
) -> list[PrDecision]:
    bodies = {p.number: p.body for p in prs}
    runs = 0
    out: list[PrDecision] = []
    for decision in decisions:
        if decision.action == "skip":
            out.append(decision)
            continue
        due = agent_due(
            decision.action,
            decision.task,
            bodies.get(decision.pr_number) if decision.pr_number is not None else None,
            agent,
            task_changed=decision.body_changed,
        )
        run, reason = due.run, due.reason
        if run and runs >= agent.max_runs:
            run, reason = False, f"limit of {agent.max_runs} agent runs per selfheal pr reached"
        runs += run
        out.append(replace(decision, agent_run=run, agent_reason=f"agent {agent.name}: {reason}"))
    return out


def _decide(task: PatchTask, prs: Sequence[ExistingPr], options: _Options) -> PrDecision:
    full = short_fingerprint(task.fingerprint) in options.ambiguous
    branch = branch_name(task, options.branch_prefix, full=full)
    secrets = options.secrets
    task_labels = labels_for(task, options.labels)
    base = PrDecision(
        action="skip",
        reason="",
        task=task,
        branch=branch,
        title=pr_title(task, secrets=secrets),
        labels=task_labels,
    )
    open_pr, closed_pr = _find(prs, task.fingerprint, branch)
    if open_pr is not None:
        return _decide_open(base, open_pr, _previous(prs, task, open_pr), options)
    if task.status == "resolved":
        return replace(base, reason="resolved and no open PR")
    if task.severity.lower() not in options.selected:
        return replace(
            base, reason=f"severity {task.severity} not selected ({', '.join(options.severities)})"
        )
    previous_pr = None
    if closed_pr is not None:
        came_back = task.status == "regressed" and _later(task.last_seen, closed_pr.closed_at)
        how = "merged" if closed_pr.merged else "closed without merge"
        if not came_back:
            return replace(
                base,
                reason=f"PR #{closed_pr.number} was {how}; respected (new PR only on regression)",
                pr_number=closed_pr.number,
                pr_url=closed_pr.url,
            )
        previous_pr = closed_pr.number
    if previous_pr is not None:
        # The old branch may be merged or deleted; a fresh branch always carries a new commit.
        base = replace(base, branch=f"{base.branch}-after-{previous_pr}")
    return replace(
        base,
        action="create",
        reason="new task" if previous_pr is None else f"regressed after PR #{previous_pr} was closed",
        body=render_pr_body(task, secrets=secrets, previous_pr=previous_pr),
        previous_pr=previous_pr,
        task_file=task_file_path(task),
    )


def _decide_open(
    base: PrDecision, open_pr: ExistingPr, previous_pr: int | None, options: _Options
) -> PrDecision:
    task = base.task
    secrets = options.secrets
    section = fix_section_of(open_pr.body)  # a proposed fix stays described until the next one
    room = MAX_BODY_CHARS - len(section.encode("utf-8"))
    body = with_fix_section(
        render_pr_body(task, secrets=secrets, previous_pr=previous_pr, max_chars=room), section
    )
    body_changed = _normalized(body) != _normalized(open_pr.body)
    # A title a person rewrote is theirs; only selfheal's own form is kept up to date.
    title_changed = open_pr.title.startswith("[selfheal] ") and open_pr.title != base.title
    have = {name.lower() for name in open_pr.labels}
    wanted = {label.name.lower() for label in base.labels}
    missing = tuple(label.name for label in base.labels if label.name.lower() not in have)
    stale = tuple(
        name
        for name in open_pr.labels
        if name.lower().startswith(("severity:", "source:")) and name.lower() not in wanted
    )
    before = marked_status(open_pr.body)
    comment = None
    close = False
    if task.status == "regressed" and before != "regressed":
        comment = render_regressed_comment(task, secrets=secrets)
    elif task.status == "resolved" and before != "resolved":
        close = options.close_resolved
        comment = render_resolved_comment(task, closing=close, secrets=secrets)
    if not (body_changed or title_changed or missing or stale) and comment is None:
        return replace(
            base,
            action="unchanged",
            reason=f"open PR #{open_pr.number} is up to date",
            pr_number=open_pr.number,
            pr_url=open_pr.url,
            body=body,
        )
    what = [
        w
        for w, on in (("title", title_changed), ("body", body_changed), ("labels", bool(missing or stale)))
        if on
    ]
    if comment is not None:
        what.append(f"{task.status} comment")
    if close:
        what.append("close")
    return replace(
        base,
        action="update",
        reason=f"open PR #{open_pr.number}: {', '.join(what)}",
        pr_number=open_pr.number,
        pr_url=open_pr.url,
        body=body,
        body_changed=body_changed,
        title_changed=title_changed,
        missing_labels=missing,
        stale_labels=stale,
        comment=comment,
        close=close,
    )


def _previous(prs: Sequence[ExistingPr], task: PatchTask, open_pr: ExistingPr) -> int | None:
    """The closed PR that ``open_pr`` was opened after, if its body links one (keep linking it)."""
    fingerprint = normalized_fingerprint(task.fingerprint)
    closed = sorted(
        (
            p.number
            for p in prs
            if p.state != "open" and p.number < open_pr.number and p.fingerprint == fingerprint
        ),
        reverse=True,
    )
    return next((n for n in closed if f"after #{n} was closed" in open_pr.body), None)
