"""A coding agent's proposed fix, as data and as PR text (pure: no I/O, no clock, no environment).

:mod:`selfheal.pullrequests.agent` runs the agent and fills an :class:`AgentResult`; this
module decides *whether* an agent should run for a PR (:func:`agent_due`), and renders what it
did as the PR body's "Proposed fix" section. The section sits between two hidden markers at
the end of the body; the opening marker records the run (date, evidence digest, outcome), so a
later ``selfheal pr`` starting from a fresh checkout knows the task was already worked on:

    <!-- selfheal:agent date=2026-12-02 evidence=3f2a… outcome=committed -->
    ### Proposed fix (agent NAME)
    …
    <!-- /selfheal:agent -->

Everything the agent or the test command printed is untrusted: scrubbed, shown in labelled
untrusted blocks, and cut to a tail.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from selfheal.models import PatchTask
from selfheal.scrub import escape_html, inline_markdown, scrub_text, untrusted_block

__all__ = [
    "COMMITTED",
    "TESTS_FAILING_LABEL",
    "AgentDue",
    "AgentPolicy",
    "AgentRecord",
    "AgentResult",
    "DiffStat",
    "FileChange",
    "Outcome",
    "Verdict",
    "agent_due",
    "agent_record",
    "evidence_digest",
    "fix_commit_message",
    "fix_section",
    "fix_section_of",
    "with_fix_section",
    "without_fix_section",
]

Outcome = Literal["committed", "no-change", "timeout", "crashed", "refused", "error"]
COMMITTED: Outcome = "committed"
#: Label of a PR whose proposed fix did not pass the project's tests.
TESTS_FAILING_LABEL = "fix:tests-failing"
#: One agent run per task per this many days, unless the evidence changed.
RUN_INTERVAL_DAYS = 7
#: Characters kept of the agent's summary and of each output tail.
MAX_SUMMARY_CHARS = 3_000
MAX_TAIL_CHARS = 2_500
MAX_STAT_ROWS = 30

_START_RE = re.compile(
    r"<!-- selfheal:agent date=(\d{4}-\d{2}-\d{2}) evidence=([0-9a-f]{8,64}) outcome=([a-z-]+) -->"
)
_END = "<!-- /selfheal:agent -->"


@dataclass(frozen=True, slots=True)
class FileChange:
    """One file of the proposed commit. ``content`` ``None``: the file is deleted."""

    path: str
    content: bytes | None
    #: Git file mode: ``100644``, ``100755`` (executable) or ``120000`` (symlink; content = target).
    mode: str = "100644"


@dataclass(frozen=True, slots=True)
class DiffStat:
    path: str
    added: int | None  # None: binary
    removed: int | None


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the test command said about the change."""

    command: tuple[str, ...]
    passed: bool
    exit_code: int | None
    timed_out: bool
    #: Scrubbed last lines of the output.
    output_tail: str


@dataclass(frozen=True, slots=True)
class AgentResult:
    """What one agent run did (all text already scrubbed)."""

    agent: str
    outcome: Outcome
    #: One line for people: why nothing was committed, or what was.
    detail: str
    evidence: str
    changes: tuple[FileChange, ...] = ()
    stats: tuple[DiffStat, ...] = ()
    tests: Verdict | None = None
    summary: str = ""
    output_tail: str = ""
    commit_sha: str = ""

    @property
    def committed(self) -> bool:
        return self.outcome == COMMITTED

    @property
    def tests_failed(self) -> bool:
        return self.committed and self.tests is not None and not self.tests.passed

    def line(self) -> str:
        """One line for ``out/pr_plan.json`` and the summary."""
        if not self.committed:
            return f"{self.outcome}: {self.detail}"
        files = f"{len(self.changes)} file{'s' if len(self.changes) != 1 else ''}"
        if self.tests is None:
            verdict = "no test command"
        else:
            verdict = "tests passed" if self.tests.passed else "tests failing"
        return f"committed: {files}, {verdict}"


@dataclass(frozen=True, slots=True)
class AgentRecord:
    """The run recorded in a PR body's marker."""

    day: date
    evidence: str
    outcome: str


@dataclass(frozen=True, slots=True)
class AgentPolicy:
    """What the planner needs to know about the configured agent."""

    name: str
    max_runs: int
    today: date


@dataclass(frozen=True, slots=True)
class AgentDue:
    run: bool
    reason: str


def evidence_digest(task: PatchTask) -> str:
    """A digest of the task's evidence (not of its counts, which change every run)."""
    data = {
        "exceptionType": task.exception_type,
        "culprit": task.culprit,
        "evidence": task.evidence.to_json(),
        "filesHint": list(task.expected_fix.files_hint),
    }
    text = json.dumps(data, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def agent_record(body: str | None) -> AgentRecord | None:
    """The agent run recorded in a PR body (``None``: no agent ran for it yet)."""
    match = _START_RE.search(body or "")
    if match is None:
        return None
    try:
        day = date.fromisoformat(match.group(1))
    except ValueError:
        return None
    return AgentRecord(day, match.group(2), match.group(3))


def agent_due(
    action: str, task: PatchTask, body: str | None, policy: AgentPolicy, *, task_changed: bool
) -> AgentDue:
    """Whether the agent runs for this decision (before the ``max_runs`` cap)."""
    if action == "create":
        return AgentDue(True, "new PR")
    if action != "update" or not task_changed:
        return AgentDue(False, "task unchanged")
    if task.status == "resolved":
        return AgentDue(False, "task resolved")
    record = agent_record(body)
    if record is None:
        return AgentDue(True, "task changed, no proposed fix yet")
    if record.evidence != evidence_digest(task):
        return AgentDue(True, "the evidence changed since the last agent run")
    if policy.today - record.day < timedelta(days=RUN_INTERVAL_DAYS):
        return AgentDue(False, f"agent ran on {record.day.isoformat()} (at most once a week)")
    return AgentDue(True, f"task changed, last agent run {record.day.isoformat()}")


def fix_section_of(body: str | None) -> str:
    """The "Proposed fix" section of a body (markers included), or ``""``."""
    text = body or ""
    match = _START_RE.search(text)
    if match is None:
        return ""
    end = text.find(_END, match.start())
    if end < 0:
        return ""
    return "\n" + text[match.start() : end + len(_END)] + "\n"


def without_fix_section(body: str) -> str:
    """``body`` with its "Proposed fix" section (if any) removed."""
    section = fix_section_of(body)
    if not section:
        return body
    start = body.find(section.strip("\n"))
    return (body[:start].rstrip("\n") + "\n" + body[start + len(section.strip("\n")) :].lstrip("\n")).rstrip(
        "\n"
    ) + "\n"


def with_fix_section(body: str, section: str) -> str:
    """``body`` (rendered without a section) followed by ``section``."""
    if not section:
        return body
    return body.rstrip("\n") + "\n" + section


def fix_commit_message(agent: str) -> str:
    return f"selfheal: proposed fix (agent {agent})"


def _tail(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[-limit:]
    newline = cut.find("\n")
    return ("…\n" + cut[newline + 1 :]) if 0 <= newline < 200 else "…" + cut


def clean_output(text: str, secrets: Iterable[str], *, limit: int = MAX_TAIL_CHARS) -> str:
    """Scrubbed tail of process output. Scrubbed whole first, so no secret is cut in half."""
    return _tail(scrub_text(text, secrets=secrets).text, limit).strip("\n")


def _count(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


def _stat_lines(stats: Sequence[DiffStat]) -> list[str]:
    rows = ["| File | + | − |", "|---|---:|---:|"]
    for stat in stats[:MAX_STAT_ROWS]:
        name = inline_markdown(stat.path, max_chars=150).replace("`", "")
        added = "bin" if stat.added is None else str(stat.added)
        removed = "bin" if stat.removed is None else str(stat.removed)
        rows.append(f"| `{name}` | {added} | {removed} |")
    if len(stats) > MAX_STAT_ROWS:
        rows.append(f"| … and {len(stats) - MAX_STAT_ROWS} more files | | |")
    added_total = sum(s.added or 0 for s in stats)
    removed_total = sum(s.removed or 0 for s in stats)
    rows += [
        "",
        f"{_count(len(stats), 'file')} changed, {_count(added_total, 'insertion')}(+), "
        f"{_count(removed_total, 'deletion')}(-)",
    ]
    return rows


def fix_section(result: AgentResult, *, day: date) -> str:
    """The body section for one agent run (one line when nothing was committed)."""
    name = escape_html(result.agent)
    start = (
        f"<!-- selfheal:agent date={day.isoformat()} evidence={result.evidence} outcome={result.outcome} -->"
    )
    if not result.committed:
        line = (
            f"**Proposed fix:** none — agent {name} {inline_markdown(result.detail, max_chars=300)} "
            f"({day.isoformat()}); no commit was made."
        )
        return f"\n{start}\n{line}\n{_END}\n"
    lines = [
        start,
        f"### Proposed fix (agent {name})",
        "",
        f"A coding agent proposed the change in commit {result.commit_sha[:12] or '(pending)'} on this "
        "branch. **A person still decides**: review the diff, run it, and mark the PR ready for review "
        "only when the fix is right.",
        "",
        *_stat_lines(result.stats),
        "",
    ]
    tests = result.tests
    if tests is None:
        lines += ["Tests: no test command is configured (`[tool.selfheal.agent] test_command`).", ""]
    else:
        command = inline_markdown(" ".join(tests.command), max_chars=200).replace("`", "")
        if tests.passed:
            verdict = "**tests passed**"
        elif tests.timed_out:
            verdict = "**tests failing** (timed out)"
        else:
            verdict = f"**tests failing** (exit {tests.exit_code})"
        lines += [f"Tests: `{command}` — {verdict}", ""]
        if tests.output_tail:
            lines += [
                "<details><summary>Test output (last lines)</summary>",
                "",
                untrusted_block(tests.output_tail, label="test output"),
                "</details>",
                "",
            ]
    summary = result.summary or "(the agent wrote no summary)"
    lines += ["#### The agent's summary", "", untrusted_block(summary, label="agent output"), _END]
    return "\n" + "\n".join(lines) + "\n"
