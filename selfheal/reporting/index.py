"""The run record kept next to each report, and ``reports/index.html`` listing every run.

Each run folder holds ``run.json`` (:class:`RunRecord`): when it ran, with which parameters
(never secrets: the runner refuses secret-like parameters), which notebooks passed or failed,
and the headline numbers. The index is rebuilt from those files, newest run first, as one
static page with inline CSS and no JavaScript.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from selfheal.models import SEVERITIES, STATUSES, PatchTask

__all__ = ["Headline", "NotebookRecord", "RunRecord", "headline_of", "render_index"]


@dataclass(frozen=True, slots=True)
class Headline:
    """The numbers a reader wants first: tasks by severity, by status, by source."""

    tasks: int = 0
    events: int = 0
    by_severity: Mapping[str, int] = field(default_factory=dict)
    by_status: Mapping[str, int] = field(default_factory=dict)
    by_source: Mapping[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "tasks": self.tasks,
            "events": self.events,
            "bySeverity": dict(self.by_severity),
            "byStatus": dict(self.by_status),
            "bySource": dict(self.by_source),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Headline:
        def counts(key: str) -> dict[str, int]:
            return {str(k): int(v) for k, v in (data.get(key) or {}).items()}

        return cls(
            tasks=int(data.get("tasks") or 0),
            events=int(data.get("events") or 0),
            by_severity=counts("bySeverity"),
            by_status=counts("byStatus"),
            by_source=counts("bySource"),
        )


def headline_of(tasks: Sequence[PatchTask]) -> Headline:
    """Headline numbers of a run's tasks (resolved tasks count only in ``by_status``)."""
    live = [t for t in tasks if t.status != "resolved"]
    return Headline(
        tasks=len(live),
        events=sum(t.frequency for t in live),
        by_severity=dict(Counter(t.severity for t in live)),
        by_status=dict(Counter(t.status for t in tasks)),
        by_source=dict(Counter(s for t in live for s in (t.sources or (t.source,)))),
    )


@dataclass(frozen=True, slots=True)
class NotebookRecord:
    """One notebook of a run: ``status`` is ok, failed or skipped (not run after a failure)."""

    name: str
    status: str
    html: str | None = None
    ipynb: str | None = None
    cell: int | None = None
    error: str = ""
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "html": self.html,
            "ipynb": self.ipynb,
            "cell": self.cell,
            "error": self.error,
            "seconds": round(self.seconds, 2),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> NotebookRecord:
        cell = data.get("cell")
        return cls(
            name=str(data["name"]),
            status=str(data.get("status") or "skipped"),
            html=data.get("html"),
            ipynb=data.get("ipynb"),
            cell=int(cell) if isinstance(cell, int) else None,
            error=str(data.get("error") or ""),
            seconds=float(data.get("seconds") or 0.0),
        )


@dataclass(frozen=True, slots=True)
class RunRecord:
    """What ``reports/<run-id>/run.json`` says about one run."""

    run_id: str
    started: str
    finished: str
    params: Mapping[str, Any]
    notebooks: tuple[NotebookRecord, ...]
    headline: Headline = field(default_factory=Headline)

    @property
    def ok(self) -> bool:
        return all(nb.status == "ok" for nb in self.notebooks)

    def to_json(self) -> dict[str, Any]:
        return {
            "runId": self.run_id,
            "started": self.started,
            "finished": self.finished,
            "ok": self.ok,
            "params": dict(self.params),
            "notebooks": [nb.to_json() for nb in self.notebooks],
            "headline": self.headline.to_json(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunRecord:
        return cls(
            run_id=str(data["runId"]),
            started=str(data.get("started") or ""),
            finished=str(data.get("finished") or ""),
            params=dict(data.get("params") or {}),
            notebooks=tuple(NotebookRecord.from_json(n) for n in data.get("notebooks") or ()),
            headline=Headline.from_json(data.get("headline") or {}),
        )


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 22px; margin: 0 0 4px 0; }
p.lead { color: #555; margin: 0 0 16px 0; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { border-bottom: 1px solid #e2e2e2; padding: 6px 8px; text-align: left; vertical-align: top; }
th { background: #f6f6f6; font-weight: 600; }
.ok { color: #1a7f37; font-weight: 600; }
.failed { color: #c62828; font-weight: 600; }
.skipped { color: #888; }
.sev { display: inline-block; min-width: 1.6em; padding: 0 4px; border-radius: 3px;
       text-align: center; margin-right: 2px; }
.sev-blocker { background: #7f0000; color: #fff; } .sev-high { background: #d7301f; color: #fff; }
.sev-medium { background: #fc8d59; } .sev-low { background: #fdcc8a; }
code { font-size: 12px; background: #f3f3f3; padding: 0 3px; border-radius: 2px; }
ul.nb { margin: 0; padding-left: 16px; }
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _params_html(params: Mapping[str, Any]) -> str:
    if not params:
        return "<em>defaults</em>"
    return "<br>".join(f"<code>{_e(k)}</code> = <code>{_e(v)}</code>" for k, v in sorted(params.items()))


def _headline_html(h: Headline) -> str:
    sev = " ".join(
        f'<span class="sev sev-{s}" title="{s}">{h.by_severity.get(s, 0)}</span>' for s in SEVERITIES
    )
    status = ", ".join(f"{h.by_status[s]} {s}" for s in STATUSES if h.by_status.get(s))
    sources = ", ".join(f"{n} {_e(s)}" for s, n in sorted(h.by_source.items()))
    parts = [f"<strong>{h.tasks}</strong> tasks · {h.events} events", f"{sev}"]
    if status:
        parts.append(_e(status))
    if sources:
        parts.append(f"from {sources}")
    return "<br>".join(parts)


def _notebooks_html(run: RunRecord) -> str:
    items = []
    for nb in run.notebooks:
        label = _e(nb.name)
        link = f'<a href="{_e(run.run_id)}/{_e(nb.html)}">{label}</a>' if nb.html else label
        note = f" at cell {nb.cell}" if nb.status == "failed" and nb.cell is not None else ""
        error = f": {_e(nb.error[:200])}" if nb.status == "failed" and nb.error else ""
        items.append(f'<li>{link} <span class="{_e(nb.status)}">{_e(nb.status)}{note}</span>{error}</li>')
    return f'<ul class="nb">{"".join(items)}</ul>'


def render_index(runs: Iterable[RunRecord], *, title: str = "selfheal reports") -> str:
    """The index page: every run, newest first, with date, status, parameters and numbers."""
    ordered = sorted(runs, key=lambda r: (r.started, r.run_id), reverse=True)
    rows = []
    for run in ordered:
        status = '<span class="ok">ok</span>' if run.ok else '<span class="failed">failed</span>'
        rows.append(
            "<tr>"
            f"<td><code>{_e(run.run_id)}</code><br>{_e(run.started)}</td>"
            f"<td>{status}</td>"
            f"<td>{_headline_html(run.headline)}</td>"
            f"<td>{_notebooks_html(run)}</td>"
            f"<td>{_params_html(run.params)}</td>"
            "</tr>"
        )
    body = "".join(rows) or '<tr><td colspan="5">No runs yet: <code>selfheal run</code></td></tr>'
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{_e(title)}</h1>"
        f'<p class="lead">{len(ordered)} run(s). Each report opens offline; charts are drawn in the page.</p>'
        "<table><thead><tr><th>run</th><th>status</th><th>headline</th><th>notebooks</th>"
        f"<th>parameters</th></tr></thead><tbody>{body}</tbody></table>"
        "</body></html>\n"
    )
