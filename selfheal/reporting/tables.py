"""Readable HTML tables for notebooks and reports: sorted, truncated, escaped, linked.

Every text cell is scrubbed (:func:`selfheal.scrub.scrub_text`), HTML-escaped and cut to a
bounded length; links are kept only when they are ``http(s)`` URLs (a Sentry permalink, a pull
request), so a hostile title or URL from an error cannot inject markup or script into a report.
PR previews are rendered from markdown with raw HTML off. Pure: no files, no network.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from selfheal.dedup import diff_excerpts
from selfheal.models import SEVERITIES, PatchTask
from selfheal.scrub import scrub_text

if TYPE_CHECKING:
    from selfheal.pipeline import FailingTest

__all__ = [
    "Cell",
    "HtmlTable",
    "PrPreviews",
    "failing_tests_table",
    "merged_tasks_table",
    "near_duplicates_table",
    "pr_previews",
    "records_table",
    "severity_reasons_table",
    "task_table",
]

#: Longest text shown in one cell.
CELL_CHARS = 120
_CELL_STYLE = "text-align: left; vertical-align: top"


def _bounded(text: str, limit: int = CELL_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _safe_href(url: object) -> str | None:
    if isinstance(url, str) and url.startswith(("https://", "http://")):
        return url
    return None


@dataclass(frozen=True, slots=True)
class Cell:
    """One table cell: bounded text and an optional http(s) link."""

    text: str
    href: str | None = None

    @property
    def shown(self) -> str:
        """The text as displayed: scrubbed and bounded."""
        return _bounded(scrub_text(self.text).text)

    def to_html(self) -> str:
        body = html.escape(self.shown)
        href = _safe_href(self.href)
        if href is not None and scrub_text(href).text != href:
            href = None  # a link carrying a secret or personal data is shown as text only
        if href is None:
            return body
        return f'<a href="{html.escape(href, quote=True)}" rel="noopener noreferrer">{body}</a>'


@dataclass(frozen=True, slots=True)
class HtmlTable:
    """A small table that Jupyter and the reports display as escaped HTML."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    caption: str = ""
    #: How many rows there were before truncation (shown as "first N of M").
    total: int = 0

    def to_html(self) -> str:
        # Inline alignment: notebook front ends right-align table cells by default.
        head = "".join(f'<th style="{_CELL_STYLE}">{html.escape(c)}</th>' for c in self.columns)
        body = "".join(
            "<tr>" + "".join(f'<td style="{_CELL_STYLE}">{cell.to_html()}</td>' for cell in row) + "</tr>"
            for row in self.rows
        )
        caption = self.caption
        if self.total > len(self.rows):
            caption = f"{caption} (first {len(self.rows)} of {self.total})".strip()
        cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
        return (
            f'<table class="selfheal-table">{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
        )

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:
        """The plain-text form Jupyter stores beside the HTML (``text/plain``): scrubbed too."""
        lines = [" | ".join(self.columns)]
        lines += [" | ".join(cell.shown for cell in row) for row in self.rows]
        if self.caption:
            lines.insert(0, self.caption)
        return "\n".join(lines)

    def __len__(self) -> int:
        return len(self.rows)


def records_table(
    rows: Sequence[Mapping[str, object]],
    *,
    columns: Sequence[str],
    links: Mapping[str, str] | None = None,
    caption: str = "",
    limit: int = 25,
) -> HtmlTable:
    """``columns`` of the first ``limit`` ``rows``; ``links`` maps a column to its URL key."""
    link_of = dict(links or {})
    cells = tuple(
        tuple(
            Cell(
                "" if row.get(col) is None else str(row.get(col)),
                _safe_href(row.get(link_of.get(col, ""))),
            )
            for col in columns
        )
        for row in rows[:limit]
    )
    return HtmlTable(tuple(columns), cells, caption, total=len(rows))


def task_table(frame: pl.DataFrame, *, limit: int = 25, caption: str = "Open tasks") -> HtmlTable:
    """Open tasks from :func:`selfheal.charts.tasks_frame`, most severe then most frequent first.

    Resolved tasks are left out (the week-over-week view counts them). Titles link to the
    Sentry permalink when there is one.
    """
    ordered = (
        frame.filter(pl.col("status") != "resolved")
        .with_columns(
            pl.col("severity").cast(pl.String),
            pl.col("status").cast(pl.String),
            pl.col("files_hint").list.join(", ").alias("files"),
            pl.col("severity")
            .cast(pl.String)
            .replace_strict(list(SEVERITIES), list(range(len(SEVERITIES))), default=len(SEVERITIES))
            .alias("rank"),
        )
        .sort(["rank", "frequency", "users", "id"], descending=[False, True, True, False])
        .to_dicts()
    )
    return records_table(
        ordered,
        columns=("severity", "status", "title", "frequency", "users", "owner", "files", "id"),
        links={"title": "sentry_url"},
        caption=caption,
        limit=limit,
    )


def severity_reasons_table(tasks: Sequence[PatchTask], *, limit: int = 30) -> HtmlTable:
    """Open tasks in the given order, each with the rules that decided its severity."""
    rows = [
        {
            "severity": t.severity,
            "title": t.title,
            "why": "; ".join(t.severity_reasons),
            "merged": len(t.occurrences),
        }
        for t in tasks
        if t.status != "resolved"
    ]
    return records_table(
        rows,
        columns=("severity", "title", "why", "merged"),
        caption="Severity reasons (open tasks)",
        limit=limit,
    )


def merged_tasks_table(tasks: Sequence[PatchTask], *, limit: int = 25) -> HtmlTable:
    """Tasks that merged several raw items, with why (``mergeReasons``), most items first."""
    rows = [
        {
            "items": len(t.occurrences),
            "title": t.title,
            "why merged": " · ".join(t.merge_reasons),
            "sources": ", ".join(t.sources),
            "id": t.fingerprint,
            "url": t.evidence.sentry_url,
        }
        for t in sorted(tasks, key=lambda t: (-len(t.occurrences), t.fingerprint))
        if t.merge_reasons
    ]
    return records_table(
        rows,
        columns=("items", "title", "why merged", "sources", "id"),
        links={"title": "url"},
        caption="Merged tasks and why",
        limit=limit,
    )


def near_duplicates_table(candidates: pl.DataFrame, *, limit: int = 25) -> HtmlTable:
    """Pairs from :func:`selfheal.charts.near_duplicates_frame`, most similar first.

    Both messages and both top frames side by side, each pair cut where the two differ (not at
    the start of what they share), with why the pair is offered.
    """
    rows = []
    for row in candidates.sort(["score", "a", "b"], descending=[True, False, False]).to_dicts():
        message_a = str(row.get("message_a") or row.get("title_a") or "")
        message_b = str(row.get("message_b") or row.get("title_b") or "")
        row["message_a"], row["message_b"] = diff_excerpts(message_a, message_b, CELL_CHARS)
        row["frames_a"], row["frames_b"] = diff_excerpts(
            str(row.get("frames_a") or "").replace("\n", " · "),
            str(row.get("frames_b") or "").replace("\n", " · "),
            CELL_CHARS,
        )
        row["score"] = f"{row['score']:.2f}"
        rows.append(row)
    return records_table(
        rows,
        columns=(
            "score",
            "title_a",
            "message_a",
            "frames_a",
            "title_b",
            "message_b",
            "frames_b",
            "why",
            "a",
            "b",
        ),
        links={"title_a": "url_a", "title_b": "url_b"},
        caption="Near-duplicate candidates (merge when the same bug, split when not)",
        limit=limit,
    )


_COMMENT = re.compile(r"<!--(.*?)-->", re.DOTALL)
_PREVIEW_HEADER = re.compile(r"^selfheal preview: (?P<action>\w+) \((?P<reason>.*)\)$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class PrPreviews:
    """Ready HTML for a notebook or a report: PR previews, the failing-tests table."""

    html: str
    count: int

    def _repr_html_(self) -> str:
        return self.html


def _render_markdown(text: str) -> str:
    from markdown_it import MarkdownIt  # only the PR notebook renders markdown

    # Raw HTML off: a body quoting an error's markup shows it as text, never as markup.
    renderer = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
    rendered: str = renderer.render(text)
    return rendered


def pr_previews(previews: Sequence[str]) -> PrPreviews:
    """The previews ``selfheal pr --dry-run`` wrote (``out/pr_previews/*.md``), whole and formatted.

    The summary line of each says the action, the PR title, its branch and why; the body is the
    full markdown (never cut), the hidden markers left out. Text is already scrubbed by the
    planner; markdown is rendered with raw HTML disabled and only safe link schemes.
    """
    blocks = []
    for text in previews:
        notes = [m.strip() for m in _COMMENT.findall(text)]
        header = next((m for n in notes if (m := _PREVIEW_HEADER.match(n))), None)
        title = next((n.removeprefix("title: ") for n in notes if n.startswith("title: ")), "")
        branch = next((n.removeprefix("branch: ") for n in notes if n.startswith("branch: ")), "")
        body = _COMMENT.sub("", text).strip()
        action = header["action"] if header else "preview"
        reason = header["reason"] if header else ""
        summary = (
            f"<strong>{html.escape(action)}</strong> · {html.escape(title or 'pull request')}"
            + (f" <code>{html.escape(branch)}</code>" if branch else "")
            + (f" — {html.escape(reason)}" if reason else "")
        )
        blocks.append(
            f'<details class="selfheal-pr-preview"><summary>{summary}</summary>'
            f'<div class="selfheal-pr-body">{_render_markdown(body)}</div></details>'
        )
    if not blocks:
        return PrPreviews(html="<p><em>No PR to create or update in this plan.</em></p>", count=0)
    return PrPreviews(html="".join(blocks), count=len(blocks))


#: Thumbnails are drawn at most this big (the data itself is capped by the pipeline).
_THUMB_STYLE = "max-width: 240px; max-height: 160px; border: 1px solid #ddd"


def failing_tests_table(tests: Sequence[FailingTest], *, limit: int = 30) -> PrPreviews:
    """Failing tests with their evidence: file and line (linked), projects, attempts, flaky,
    the screenshot as a size-capped thumbnail and the trace file."""
    rows = []
    for t in tests[:limit]:
        where = f"{t.file}:{t.line}" if t.line else t.file
        href = _safe_href(t.file_url)
        place = html.escape(where or "?")
        if href:
            place = f'<a href="{html.escape(href, quote=True)}" rel="noopener noreferrer">{place}</a>'
        shot = ""
        if t.thumbnail and t.thumbnail.startswith("data:image/"):
            alt_text = html.escape(f"screenshot: {t.screenshot}", quote=True)
            shot = (
                f'<img src="{html.escape(t.thumbnail, quote=True)}" alt="{alt_text}" style="{_THUMB_STYLE}">'
            )
        elif t.screenshot:
            shot = f"<code>{html.escape(t.screenshot)}</code> (not embedded)"
        trace = f"<code>{html.escape(t.trace)}</code>" if t.trace else ""
        cells = (
            html.escape(_bounded(scrub_text(t.title).text)),
            html.escape(t.source),
            place,
            html.escape(", ".join(t.projects)),
            f"{t.failed_attempts} of {t.attempts}",
            "flaky" if t.flaky else "",
            shot,
            trace,
        )
        rows.append("<tr>" + "".join(f'<td style="{_CELL_STYLE}">{c}</td>' for c in cells) + "</tr>")
    head = "".join(
        f'<th style="{_CELL_STYLE}">{c}</th>'
        for c in ("test", "source", "file", "projects", "failed", "flaky", "screenshot", "trace")
    )
    more = f" (first {limit} of {len(tests)})" if len(tests) > limit else ""
    caption = f"<caption>Failing tests and their evidence{more}</caption>"
    if not rows:
        return PrPreviews(html="<p><em>No failing test in this run's test reports.</em></p>", count=0)
    body = "".join(rows)
    table = (
        f'<table class="selfheal-table">{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )
    return PrPreviews(html=table, count=len(rows))
