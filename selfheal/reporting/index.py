"""The run record kept next to each report, and ``reports/index.html``: the Monday dashboard.

Each run folder holds ``run.json`` (:class:`RunRecord`): when it ran, with which parameters
(never secrets: the runner refuses secret-like parameters), which data (sample, Sentry,
Bugsink or a file, and when it was pulled), which notebooks passed or failed, the headline
numbers and the latest top tasks with their PR and Sentry links. ``reports/history.json``
keeps the records of earlier runs whose folders are gone (CI restores it from the previous
run), so the trends span every run. The index is one static page: inline CSS, charts drawn
as inline SVG, no JavaScript, nothing fetched.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from selfheal.models import SEVERITIES, STATUSES, PatchTask
from selfheal.pipeline import DataSource

__all__ = ["Headline", "NotebookRecord", "RunRecord", "headline_of", "render_index", "top_tasks_of"]


@dataclass(frozen=True, slots=True)
class Headline:
    """The numbers a reader wants first: tasks by severity, by status, by source."""

    tasks: int = 0
    events: int = 0
    by_severity: Mapping[str, int] = field(default_factory=dict)
    by_status: Mapping[str, int] = field(default_factory=dict)
    by_source: Mapping[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        """Two lines: open tasks, events and severities; then how many were resolved since the last run."""
        resolved = self.by_status.get("resolved", 0)
        return (
            f"{self.tasks} open tasks, {self.events} events; open by severity {dict(self.by_severity)}\n"
            f"{resolved} resolved since the last run (counted only in the week-over-week view)"
        )

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


_RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}


def _code_url(task: PatchTask, blob_url: str | None) -> str:
    """The task's first in-repository frame (a test's file and line) on the repository host."""
    if not blob_url:
        return ""
    frame = next((f for f in task.evidence.frames if f.path), None)
    if frame is None:
        return ""
    return f"{blob_url}/{frame.path}" + (f"#L{frame.lineno}" if frame.lineno else "")


def top_tasks_of(
    tasks: Sequence[PatchTask],
    pr_urls: Mapping[str, str] | None = None,
    *,
    limit: int = 10,
    blob_url: str | None = None,
) -> tuple[dict[str, Any], ...]:
    """The ``limit`` most severe open tasks (then most frequent), with their PR, Sentry and
    code links (``blob_url``: ``https://github.com/<owner>/<repo>/blob/<ref>``)."""
    links = pr_urls or {}
    live = sorted(
        (t for t in tasks if t.status != "resolved"),
        key=lambda t: (_RANK.get(t.severity, len(SEVERITIES)), -t.frequency, -t.users, t.title),
    )
    return tuple(
        {
            "title": t.title,
            "severity": t.severity,
            "status": t.status,
            "frequency": t.frequency,
            "users": t.users,
            "owner": t.owner,
            "source": "+".join(t.sources or (t.source,)),
            "fingerprint": t.fingerprint,
            "sentryUrl": t.evidence.sentry_url or "",
            "prUrl": links.get(t.fingerprint, ""),
            "codeUrl": _code_url(t, blob_url),
        }
        for t in live[:limit]
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
    #: The inputs: ``{"kind", "origin", "path", "pulled", "detail"}`` each (see ``pipeline.DataSource``).
    data: tuple[Mapping[str, str], ...] = ()
    #: The run's most severe open tasks: ``{"title", "severity", "status", "frequency", "users",
    #: "owner", "sentryUrl", "prUrl", "fingerprint"}`` each.
    top_tasks: tuple[Mapping[str, Any], ...] = ()
    #: False when no PatchTasks were written in this run (it failed before normalize).
    counted: bool = True

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
            "counted": self.counted,
            "data": [dict(d) for d in self.data],
            "topTasks": [dict(t) for t in self.top_tasks],
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
            data=tuple(
                {str(k): str(v) for k, v in d.items()} for d in data.get("data") or () if isinstance(d, dict)
            ),
            top_tasks=tuple(dict(t) for t in data.get("topTasks") or () if isinstance(t, dict)),
            counted=bool(data.get("counted", True)),
        )


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px; color: #222;
       max-width: 1280px; }
h1 { font-size: 22px; margin: 0 0 4px 0; } h2 { font-size: 17px; margin: 24px 0 8px 0; }
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
.st-new { background: #1f77b4; } .st-regressed { background: #9467bd; } .st-resolved { background: #2ca02c; }
.st-ongoing { background: #aaa; }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin: 0 4px 0 10px;
          vertical-align: -1px; }
code { font-size: 12px; background: #f3f3f3; padding: 0 3px; border-radius: 2px; }
ul.nb { margin: 0; padding-left: 16px; }
.cards { display: flex; flex-wrap: wrap; gap: 16px; }
.card { border: 1px solid #e2e2e2; border-radius: 6px; padding: 10px 14px; }
.data { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 4px; padding: 8px 12px;
        margin: 8px 0; }
.data.sample { background: #fff8c5; border-color: #d4a72c; }
.legend { font-size: 13px; color: #444; margin: 6px 0; }
svg text { font-family: system-ui, sans-serif; }
"""

_SEVERITY_COLORS = {"blocker": "#7f0000", "high": "#d7301f", "medium": "#fc8d59", "low": "#fdcc8a"}
_CHANGE_COLORS = {"new": "#1f77b4", "regressed": "#9467bd", "resolved": "#2ca02c"}
_STATUS_MEANING = {
    "new": "first seen in this run",
    "ongoing": "also in the previous run",
    "regressed": "was resolved, is back",
    "resolved": "gone since the previous run (not counted as open)",
}


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _http(url: object) -> str:
    text = str(url or "")
    return text if text.startswith(("https://", "http://")) else ""


def _params_html(params: Mapping[str, Any]) -> str:
    if not params:
        return "<em>defaults</em>"
    return "<br>".join(f"<code>{_e(k)}</code> = <code>{_e(v)}</code>" for k, v in sorted(params.items()))


_ORIGIN_NAMES = {"sample": "SAMPLE data", "sentry": "Sentry", "bugsink": "Bugsink", "file": "file"}


def _data_text(data: Sequence[Mapping[str, str]]) -> str:
    if not data:
        return "unknown (no record of the inputs)"
    return "; ".join(DataSource.from_json(d).describe() for d in data)


def _headline_html(run: RunRecord) -> str:
    h = run.headline
    if not run.counted:
        failed = next((nb.name for nb in run.notebooks if nb.status == "failed"), "")
        where = f" (failed at {_e(failed)})" if failed else ""
        return f"<em>no numbers: this run wrote no PatchTasks{where}</em>"
    sev = " ".join(
        f'<span class="sev sev-{s}" title="{s}">{h.by_severity.get(s, 0)}</span>' for s in SEVERITIES
    )
    status = ", ".join(f"{h.by_status[s]} {s}" for s in STATUSES if h.by_status.get(s))
    sources = ", ".join(f"{n} {_e(s)}" for s, n in sorted(h.by_source.items()))
    parts = [f"<strong>{h.tasks}</strong> open tasks · {h.events} events", f"{sev}"]
    if status:
        parts.append(_e(status))
    if sources:
        parts.append(f"from {sources}")
    if run.data:
        origins = sorted({_ORIGIN_NAMES.get(d.get("origin", ""), "?") for d in run.data})
        parts.append("data: " + _e(", ".join(origins)))
    return "<br>".join(parts)


def _notebooks_html(run: RunRecord, *, kept: bool = True) -> str:
    if not kept:
        return "<em>reports of this run are no longer kept here (its numbers come from history.json)</em>"
    items = []
    for nb in run.notebooks:
        label = _e(nb.name)
        link = f'<a href="{_e(run.run_id)}/{_e(nb.html)}">{label}</a>' if nb.html else label
        note = f" at cell {nb.cell}" if nb.status == "failed" and nb.cell is not None else ""
        error = f": {_e(nb.error[:200])}" if nb.status == "failed" and nb.error else ""
        items.append(f'<li>{link} <span class="{_e(nb.status)}">{_e(nb.status)}{note}</span>{error}</li>')
    return f'<ul class="nb">{"".join(items)}</ul>'


def _bars_svg(
    title: str,
    runs: Sequence[RunRecord],
    series: Mapping[str, str],
    value: Callable[[RunRecord, str], int],
    *,
    stacked: bool,
) -> str:
    """A small bar chart, one group per run (oldest left), drawn as inline SVG."""
    width, height, left, bottom, top = 560, 200, 34, 34, 22
    plot_w, plot_h = width - left - 8, height - bottom - top
    counted = [r for r in runs if r.counted]
    if not counted:
        return (
            f'<svg class="trend" role="img" aria-label="{_e(title)}" width="{width}" height="60">'
            f'<text x="4" y="16" font-size="13" font-weight="600">{_e(title)}</text>'
            '<text x="4" y="40" font-size="12" fill="#666">no counted runs yet</text></svg>'
        )
    totals = [
        sum(value(r, k) for k in series) if stacked else max((value(r, k) for k in series), default=0)
        for r in counted
    ]
    peak = max(*totals, 1)
    slot = plot_w / len(counted)
    days = [r.started[5:10] or r.run_id[:10] for r in counted]
    # Several runs on one day: the time tells them apart.
    labels = days if len(set(days)) == len(days) else [r.started[5:16].replace("T", " ") for r in counted]
    bar_w = max(min(slot * 0.7 / (1 if stacked else len(series)), 40), 2)
    parts = [
        f'<svg class="trend" role="img" aria-label="{_e(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">',
        f'<text x="4" y="14" font-size="13" font-weight="600">{_e(title)}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 8}" y2="{top + plot_h}" stroke="#999"/>',
        f'<text x="{left - 4}" y="{top + 4}" font-size="10" text-anchor="end">{peak}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" font-size="10" text-anchor="end">0</text>',
    ]
    for i, run in enumerate(counted):
        x0 = left + i * slot + (slot - bar_w * (1 if stacked else len(series))) / 2
        y: float = top + plot_h
        for j, (key, color) in enumerate(series.items()):
            n = value(run, key)
            h = plot_h * n / peak
            x = x0 if stacked else x0 + j * bar_w
            y_top = (y - h) if stacked else (top + plot_h - h)
            if n:
                parts.append(
                    f'<rect class="bar" x="{x:.1f}" y="{y_top:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                    f'fill="{color}"><title>{_e(run.run_id)}: {n} {_e(key)}</title></rect>'
                )
            if stacked:
                y -= h
        label = labels[i]
        parts.append(
            f'<text x="{left + i * slot + slot / 2:.1f}" y="{top + plot_h + 14}" font-size="10" '
            f'text-anchor="middle">{_e(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _legend(series: Mapping[str, str]) -> str:
    return "".join(
        f'<span class="swatch" style="background:{color}"></span>{_e(name)}' for name, color in series.items()
    )


def _top_tasks_html(run: RunRecord) -> str:
    if not run.top_tasks:
        return "<p><em>No open tasks in the latest counted run.</em></p>"
    rows = []
    for t in run.top_tasks:
        severity = str(t.get("severity", ""))
        links = []
        if pr := _http(t.get("prUrl")):
            links.append(f'<a href="{_e(pr)}">PR</a>')
        if sentry := _http(t.get("sentryUrl")):
            links.append(f'<a href="{_e(sentry)}">Sentry</a>')
        if code := _http(t.get("codeUrl")):
            links.append(f'<a href="{_e(code)}">code</a>')
        rows.append(
            "<tr>"
            f'<td><span class="sev sev-{_e(severity)}">{_e(severity)}</span></td>'
            f"<td>{_e(t.get('title', ''))}</td>"
            f"<td>{_e(t.get('status', ''))}</td>"
            f"<td>{_e(t.get('frequency', 0))}</td>"
            f"<td>{_e(t.get('users', 0))}</td>"
            f"<td>{_e(t.get('owner', ''))}</td>"
            f"<td>{_e(t.get('source', ''))}</td>"
            f"<td>{' · '.join(links) or '—'}</td>"
            "</tr>"
        )
    return (
        "<table><thead><tr><th>severity</th><th>task</th><th>status</th><th>events</th><th>users</th>"
        f"<th>owner</th><th>source</th><th>links</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def render_index(
    runs: Iterable[RunRecord], *, title: str = "selfheal reports", kept: Iterable[str] | None = None
) -> str:
    """The dashboard: trends across runs, the latest top tasks, a legend, and every run.

    ``kept``: the runs whose report folders are present (default: all); the others are
    listed from the history without links.
    """
    present = None if kept is None else set(kept)
    ordered = sorted(runs, key=lambda r: (r.started, r.run_id), reverse=True)
    oldest_first = list(reversed(ordered))
    latest = next((r for r in ordered if r.counted), None)
    rows = []
    for run in ordered:
        status = '<span class="ok">ok</span>' if run.ok else '<span class="failed">failed</span>'
        rows.append(
            "<tr>"
            f"<td><code>{_e(run.run_id)}</code><br>{_e(run.started)}</td>"
            f"<td>{status}</td>"
            f"<td>{_headline_html(run)}</td>"
            f"<td>{_notebooks_html(run, kept=present is None or run.run_id in present)}</td>"
            f"<td>{_params_html(run.params)}</td>"
            "</tr>"
        )
    body = "".join(rows) or '<tr><td colspan="5">No runs yet: <code>selfheal run</code></td></tr>'
    if latest is not None:
        sample = any(d.get("origin") == "sample" for d in latest.data)
        data_box = (
            f'<div class="data{" sample" if sample else ""}"><strong>Latest run '
            f"<code>{_e(latest.run_id)}</code></strong> ({_e(latest.started)}) · "
            f"<strong>Data:</strong> {_e(_data_text(latest.data))}</div>"
        )
    else:
        data_box = '<div class="data">No run has produced PatchTasks yet.</div>'
    severity_trend = _bars_svg(
        "Open tasks by severity",
        oldest_first,
        _SEVERITY_COLORS,
        lambda r, k: r.headline.by_severity.get(k, 0),
        stacked=True,
    )
    change_trend = _bars_svg(
        "New, regressed and resolved per run",
        oldest_first,
        _CHANGE_COLORS,
        lambda r, k: r.headline.by_status.get(k, 0),
        stacked=False,
    )
    meaning = " ".join(f"<strong>{_e(s)}</strong>: {_e(m)}." for s, m in _STATUS_MEANING.items())
    legend = (
        f'<p class="legend">Severity:{_legend(_SEVERITY_COLORS)} · Change:{_legend(_CHANGE_COLORS)}</p>'
        f'<p class="legend">{meaning} Open tasks are every task but the resolved ones; badges in the '
        "runs table are open tasks per severity (blocker, high, medium, low).</p>"
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{_e(title)}</h1>"
        f'<p class="lead">{len(ordered)} run(s). Each report opens offline; charts are drawn in the page.</p>'
        f"{data_box}"
        f'<h2>Trends</h2><div class="cards"><div class="card">{severity_trend}</div>'
        f'<div class="card">{change_trend}</div></div>{legend}'
        f"<h2>Top open tasks (latest run)</h2>{_top_tasks_html(latest) if latest else ''}"
        "<h2>Runs</h2>"
        "<table><thead><tr><th>run</th><th>status</th><th>headline</th><th>notebooks</th>"
        f"<th>parameters</th></tr></thead><tbody>{body}</tbody></table>"
        "</body></html>\n"
    )
