"""Altair charts over PatchTasks, aggregated in polars first.

Every chart here plots a small, bounded table: the tasks are turned into a frame with a named
schema (:func:`tasks_frame`, :func:`stats_frame`), grouped and cut to the top N in polars, and
only that summary becomes chart data. A report therefore stays the same size whether a run
merged a thousand raw items or a million.

Charts are plain :class:`altair.Chart` objects; :func:`use_offline_renderer` makes a notebook
display them as a static SVG (for JupyterLab and anything that cannot run JavaScript) plus the
Vega-Lite spec, which the report renderer (:mod:`selfheal.reporting`) draws interactively with
the Vega JavaScript inlined once per page. Nothing is loaded from a CDN.

This module is pure: no files, no network, no environment.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final, Literal

import altair as alt
import polars as pl

from selfheal.models import SEVERITIES, STATUSES, PatchTask
from selfheal.scrub import clean_text as clean_control_text

if TYPE_CHECKING:
    from selfheal.pipeline import FailingTest
from selfheal.scrub import scrub_text

__all__ = [
    "SEVERITY_COLORS",
    "STATS_SCHEMA",
    "STATUS_COLORS",
    "TASKS_SCHEMA",
    "VEGALITE_MIMETYPE",
    "events_over_time_chart",
    "near_duplicates_chart",
    "near_duplicates_frame",
    "open_tasks",
    "owners_chart",
    "scrubbed",
    "severity_chart",
    "stats_frame",
    "suggested_files_chart",
    "tasks_frame",
    "top_tasks_chart",
    "use_offline_renderer",
    "week_over_week_chart",
]

#: The mimetype the offline renderer emits the spec under (what JupyterLab's vega renderers use).
VEGALITE_MIMETYPE: Final = f"application/vnd.vegalite.v{alt.SCHEMA_VERSION.lstrip('v').split('.')[0]}+json"

SEVERITY_COLORS: Final[Mapping[str, str]] = {
    "blocker": "#7f0000",
    "high": "#d7301f",
    "medium": "#fc8d59",
    "low": "#fdcc8a",
}
STATUS_COLORS: Final[Mapping[str, str]] = {
    "new": "#1f77b4",
    "ongoing": "#7f7f7f",
    "regressed": "#d62728",
    "resolved": "#2ca02c",
}

#: Longest label shown on an axis; the full (still bounded) text goes to the tooltip.
LABEL_CHARS: Final = 60
TOOLTIP_CHARS: Final = 300

SeverityType = pl.Enum(list(SEVERITIES))
StatusType = pl.Enum(list(STATUSES))

#: One row per task. ``title`` is cleaned and bounded; ``label`` is the axis-sized title.
_TASK_COLUMNS: dict[str, Any] = {
    "id": pl.String,
    "fingerprint": pl.String,
    "title": pl.String,
    "label": pl.String,
    "severity": SeverityType,
    "status": StatusType,
    "frequency": pl.Int64,
    "users": pl.Int64,
    "owner": pl.String,
    "area": pl.String,
    "source": pl.String,
    "sources": pl.List(pl.String),
    "occurrences": pl.Int64,
    "files_hint": pl.List(pl.String),
    "sentry_url": pl.String,
    "first_seen": pl.String,
    "last_seen": pl.String,
    "exception_type": pl.String,
    "flaky": pl.Boolean,
}
TASKS_SCHEMA: Final = pl.Schema(_TASK_COLUMNS)

#: One row per (task, time bucket) from ``PatchTask.stats``.
STATS_SCHEMA: Final = pl.Schema(
    {
        "fingerprint": pl.String,
        "label": pl.String,
        "ts": pl.Int64,
        "events": pl.Int64,
    }
)

TextCleaner = Callable[[str], str]


def _shorten(text: str, limit: int) -> str:
    flat = " ".join(_chart_text(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _chart_text(text: str) -> str:
    """No control, bidi or zero-width characters, no lone surrogates: the chart renderer (and
    the SVG it writes) must survive any byte an error report can carry."""
    return clean_control_text(text)


def scrubbed(text: str) -> str:
    """Default cleaner: secrets and PII removed (:func:`selfheal.scrub.scrub_text`)."""
    return scrub_text(text).text


def _http_url(url: str | None) -> str | None:
    """Only http(s) links reach a chart or a table (no ``javascript:`` or ``file:``)."""
    if url and url.startswith(("https://", "http://")):
        return url
    return None


def tasks_frame(tasks: Iterable[PatchTask], *, clean_text: TextCleaner = scrubbed) -> pl.DataFrame:
    """The tasks as a frame with :data:`TASKS_SCHEMA`; ``clean_text`` scrubs titles first."""
    rows: list[dict[str, Any]] = []
    for task in tasks:
        title = _shorten(clean_text(task.title), TOOLTIP_CHARS)
        rows.append(
            {
                "id": _chart_text(task.id),
                "fingerprint": task.fingerprint,
                "title": title,
                "label": _shorten(title, LABEL_CHARS),
                "severity": task.severity,
                "status": task.status if task.status in STATUSES else "new",
                "frequency": task.frequency,
                "users": task.users,
                "owner": _chart_text(task.owner or "(unowned)"),
                "area": _chart_text(task.area),
                "source": task.source,
                "sources": list(task.sources or (task.source,)),
                "occurrences": len(task.occurrences),
                "files_hint": [_chart_text(f) for f in task.expected_fix.files_hint],
                "sentry_url": _http_url(task.evidence.sentry_url),
                "first_seen": task.first_seen,
                "last_seen": task.last_seen,
                "exception_type": _chart_text(task.exception_type),
                "flaky": task.flaky,
            }
        )
    return pl.DataFrame(rows, schema=TASKS_SCHEMA)


def stats_frame(tasks: Iterable[PatchTask], *, clean_text: TextCleaner = scrubbed) -> pl.DataFrame:
    """Event counts over time, one row per ``(fingerprint, ts)`` with :data:`STATS_SCHEMA`."""
    fingerprints: list[str] = []
    labels: list[str] = []
    stamps: list[int] = []
    counts: list[int] = []
    for task in tasks:
        label = _shorten(clean_text(task.title), LABEL_CHARS)
        for ts, n in task.stats:
            fingerprints.append(task.fingerprint)
            labels.append(label)
            stamps.append(ts)
            counts.append(n)
    frame = pl.DataFrame(
        {"fingerprint": fingerprints, "label": labels, "ts": stamps, "events": counts},
        schema=STATS_SCHEMA,
    )
    # Two tasks can share a fingerprint across sources; their series add up.
    return (
        frame.group_by("fingerprint", "ts")
        .agg(pl.col("label").first(), pl.col("events").sum())
        .select(STATS_SCHEMA.names())
        .sort("fingerprint", "ts")
    )


def _severity_color(*, legend: bool = True) -> alt.Color:
    return alt.Color(
        "severity:N",
        title="severity",
        scale=alt.Scale(domain=list(SEVERITIES), range=[SEVERITY_COLORS[s] for s in SEVERITIES]),
        sort=list(SEVERITIES),
        legend=alt.Legend() if legend else None,
    )


def _empty_note(frame: pl.DataFrame, title: str) -> str:
    return title if frame.height else f"{title} (nothing to show)"


def open_tasks(frame: pl.DataFrame) -> pl.DataFrame:
    """The tasks still open: every status but ``resolved`` (resolved ones are only week over week)."""
    return frame.filter(pl.col("status") != "resolved")


def severity_chart(frame: pl.DataFrame) -> alt.Chart:
    """Open tasks per severity (bars) with their total events in the tooltip."""
    frame = open_tasks(frame)
    summary = (
        pl.DataFrame({"severity": list(SEVERITIES)}, schema={"severity": SeverityType})
        .join(
            frame.group_by("severity").agg(
                pl.len().cast(pl.Int64).alias("tasks"),
                pl.col("frequency").sum().alias("events"),
                pl.col("users").sum().alias("users"),
            ),
            on="severity",
            how="left",
        )
        .fill_null(0)
        .with_columns(pl.col("severity").cast(pl.String))
    )
    chart: alt.Chart = (
        alt.Chart(summary, title=_empty_note(frame, "Tasks by severity"))
        .mark_bar()
        .encode(
            x=alt.X("severity:N", sort=list(SEVERITIES), title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("tasks:Q", title="tasks"),
            color=_severity_color(legend=False),
            tooltip=["severity:N", "tasks:Q", "events:Q", "users:Q"],
        )
        .properties(width=320, height=220)
    )
    return chart


def top_tasks_chart(
    frame: pl.DataFrame, *, by: Literal["frequency", "users"] = "frequency", limit: int = 15
) -> alt.Chart:
    """The ``limit`` open tasks with the most events (or affected users); bars link to Sentry.

    By users, only tasks with at least one affected user are drawn (tests have none).
    """
    frame = open_tasks(frame)
    if by == "users":
        frame = frame.filter(pl.col("users") > 0)
    top = (
        frame.sort([by, "severity"], descending=[True, False])
        .head(limit)
        .with_columns(
            pl.col("severity").cast(pl.String),
            # Two tasks can share a title; the short id keeps their bars apart.
            (pl.col("label") + " [" + pl.col("id").str.slice(0, 14) + "]").alias("bar"),
        )
        .select("bar", "title", "severity", "frequency", "users", "owner", "sentry_url")
    )
    what = "events" if by == "frequency" else "affected users"
    title = _empty_note(frame, f"Top {limit} tasks by {what}")
    if by == "users" and not frame.height:
        title = "Top tasks by affected users (no open task has affected users)"
    chart: alt.Chart = (
        alt.Chart(top, title=title)
        .mark_bar()
        .encode(
            y=alt.Y("bar:N", sort="-x", title=None, axis=alt.Axis(labelLimit=420)),
            x=alt.X(f"{by}:Q", title=what),
            color=_severity_color(),
            href=alt.Href("sentry_url:N"),
            tooltip=["title:N", "severity:N", "frequency:Q", "users:Q", "owner:N"],
        )
        .properties(width=360, height=alt.Step(18))
    )
    return chart


def _bucket_seconds(span: int, max_points: int) -> int:
    """A bucket width (hour multiples, at least one day) giving at most ``max_points`` buckets."""
    hour = 3600
    width = max(24 * hour, math.ceil(max(span, 1) / max_points))
    return math.ceil(width / hour) * hour


def events_over_time_chart(stats: pl.DataFrame, *, top: int = 8, max_points: int = 120) -> alt.Chart:
    """Events per time bucket of the ``top`` busiest fingerprints; the rest summed as "other"."""
    stamps = stats["ts"]
    span = int(stamps.max() or 0) - int(stamps.min() or 0) if stats.height else 0  # type: ignore[arg-type]  # Int64 column
    width = _bucket_seconds(span, max_points)
    busiest = (
        stats.group_by("fingerprint")
        .agg(pl.col("events").sum().alias("total"), pl.col("label").first())
        .sort(["total", "fingerprint"], descending=[True, False])
        .head(top)
    )
    series = (
        stats.join(
            busiest.select("fingerprint", pl.col("label").alias("series")),
            on="fingerprint",
            how="left",
        )
        .with_columns(
            pl.col("series").fill_null("other"),
            ((pl.col("ts") // width) * width * 1000).alias("bucket_ms"),
        )
        .group_by("series", "bucket_ms")
        .agg(pl.col("events").sum())
        .sort("series", "bucket_ms")
    )
    days, rest = divmod(width, 86400)
    unit = (f"{days} days" if days > 1 else "day") if rest == 0 else f"{width // 3600} hours"
    chart: alt.Chart = (
        alt.Chart(series, title=_empty_note(stats, f"Events over time (per {unit})"))
        .mark_line(point=True)
        .encode(
            x=alt.X("bucket_ms:T", title=None),
            y=alt.Y("events:Q", title="events"),
            color=alt.Color("series:N", title="task", legend=alt.Legend(labelLimit=320)),
            tooltip=["series:N", alt.Tooltip("bucket_ms:T", title="from"), "events:Q"],
        )
        .properties(width=520, height=240)
    )
    return chart


def owners_chart(frame: pl.DataFrame, *, limit: int = 12) -> alt.Chart:
    """Open tasks per owner, stacked by severity; owners past ``limit`` are summed as "other"."""
    frame = open_tasks(frame)
    per_owner = (
        frame.group_by("owner").agg(pl.len().alias("n")).sort(["n", "owner"], descending=[True, False])
    )
    keep = per_owner.head(limit)["owner"].to_list()
    summary = (
        frame.with_columns(
            pl.when(pl.col("owner").is_in(keep))
            .then(pl.col("owner"))
            .otherwise(pl.lit("other"))
            .alias("owner")
        )
        .group_by("owner", "severity")
        .agg(pl.len().cast(pl.Int64).alias("tasks"), pl.col("frequency").sum().alias("events"))
        .with_columns(pl.col("severity").cast(pl.String))
        .sort("owner", "severity")
    )
    chart: alt.Chart = (
        alt.Chart(summary, title=_empty_note(frame, "Tasks by owner"))
        .mark_bar()
        .encode(
            y=alt.Y("owner:N", sort="-x", title=None),
            x=alt.X("tasks:Q", title="tasks", stack="zero"),
            color=_severity_color(),
            order=alt.Order("severity:N"),
            tooltip=["owner:N", "severity:N", "tasks:Q", "events:Q"],
        )
        .properties(width=360, height=alt.Step(20))
    )
    return chart


def suggested_files_chart(frame: pl.DataFrame, *, limit: int = 15) -> alt.Chart:
    """The files most often suggested for a fix of an open task (``expectedFix.filesHint``)."""
    files = (
        open_tasks(frame)
        .select("files_hint", "frequency")
        .explode("files_hint")
        .drop_nulls("files_hint")
        .filter(pl.col("files_hint") != "")
        .group_by("files_hint")
        .agg(pl.len().cast(pl.Int64).alias("tasks"), pl.col("frequency").sum().alias("events"))
        .sort(["tasks", "events", "files_hint"], descending=[True, True, False])
        .head(limit)
        .rename({"files_hint": "file"})
        .with_columns(pl.col("file").map_elements(lambda f: _shorten(f, LABEL_CHARS), return_dtype=pl.String))
    )
    chart: alt.Chart = (
        alt.Chart(files, title=_empty_note(files, "Suggested files"))
        .mark_bar(color="#4c78a8")
        .encode(
            y=alt.Y("file:N", sort="-x", title=None, axis=alt.Axis(labelLimit=420)),
            x=alt.X("tasks:Q", title="tasks"),
            tooltip=["file:N", "tasks:Q", "events:Q"],
        )
        .properties(width=360, height=alt.Step(18))
    )
    return chart


def week_over_week_chart(frame: pl.DataFrame) -> alt.Chart:
    """Tasks per status against the previous run (new/ongoing/regressed/resolved) by severity."""
    grid = pl.DataFrame({"status": list(STATUSES)}, schema={"status": StatusType}).join(
        pl.DataFrame({"severity": list(SEVERITIES)}, schema={"severity": SeverityType}), how="cross"
    )
    summary = (
        grid.join(
            frame.group_by("status", "severity").agg(pl.len().cast(pl.Int64).alias("tasks")),
            on=["status", "severity"],
            how="left",
        )
        .fill_null(0)
        .with_columns(pl.col("status").cast(pl.String), pl.col("severity").cast(pl.String))
    )
    chart: alt.Chart = (
        alt.Chart(summary, title=_empty_note(frame, "Week over week"))
        .mark_bar()
        .encode(
            x=alt.X("status:N", sort=list(STATUSES), title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("tasks:Q", title="tasks", stack="zero"),
            color=_severity_color(),
            order=alt.Order("severity:N"),
            tooltip=["status:N", "severity:N", "tasks:Q"],
        )
        .properties(width=320, height=220)
    )
    return chart


_CANDIDATE_DETAILS = ("why", "message_a", "message_b", "frames_a", "frames_b", "rule")


def near_duplicates_frame(pairs: pl.DataFrame, frame: pl.DataFrame, *, limit: int = 20) -> pl.DataFrame:
    """The ``limit`` most similar pairs with both (cleaned) titles.

    ``pairs`` has columns a, b (fingerprints) and score, as from
    :func:`selfheal.dedup.near_duplicates`.
    """
    titles = frame.select(pl.col("fingerprint").alias("id"), "label", "severity", "sentry_url").unique(
        "id", keep="first", maintain_order=True
    )
    return (
        pairs.select(
            "a",
            "b",
            pl.col("score").cast(pl.Float64),
            pl.col("suggestion") if "suggestion" in pairs.columns else pl.lit("").alias("suggestion"),
            # Side by side, from selfheal.dedup.near_duplicates: both messages and top frames,
            # why the pair is offered and a paste-ready [[merge]] rule ('' when not given).
            *(
                pl.col(name).cast(pl.String) if name in pairs.columns else pl.lit("").alias(name)
                for name in _CANDIDATE_DETAILS
            ),
        )
        .sort(["score", "a", "b"], descending=[True, False, False])
        .head(limit)
        .join(
            titles.rename({"id": "a", "label": "title_a", "severity": "severity_a", "sentry_url": "url_a"}),
            on="a",
            how="left",
        )
        .join(
            titles.rename({"id": "b", "label": "title_b", "severity": "severity_b", "sentry_url": "url_b"}),
            on="b",
            how="left",
        )
        .with_columns(
            pl.col("title_a").fill_null(pl.col("a")),
            pl.col("title_b").fill_null(pl.col("b")),
            pl.col("severity_a").cast(pl.String),
            pl.col("severity_b").cast(pl.String),
        )
        .sort(["score", "a", "b"], descending=[True, False, False])
    )


def near_duplicates_chart(candidates: pl.DataFrame, *, threshold: float | None = None) -> alt.LayerChart:
    """Similarity of the pairs from :func:`near_duplicates_frame`, with the merge threshold."""
    data = candidates.with_columns(
        (
            pl.col("title_a").str.slice(0, 40)
            + "  ↔  "
            + pl.col("title_b").str.slice(0, 40)
            + " ["
            + pl.col("a")
            + "]"
        ).alias("pair")
    ).select("pair", "title_a", "title_b", "score")
    bars = (
        alt.Chart(data)
        .mark_bar(color="#756bb1")
        .encode(
            y=alt.Y("pair:N", sort="-x", title=None, axis=alt.Axis(labelLimit=520)),
            x=alt.X("score:Q", title="similarity", scale=alt.Scale(domain=[0, 1])),
            tooltip=["title_a:N", "title_b:N", alt.Tooltip("score:Q", format=".2f")],
        )
    )
    layers: list[alt.Chart] = [bars]
    if threshold is not None:
        rule = (
            alt.Chart(pl.DataFrame({"threshold": [threshold]}))
            .mark_rule(color="#444", strokeDash=[4, 3])
            .encode(x="threshold:Q")
        )
        layers.append(rule)
    title = _empty_note(candidates, "Near-duplicate candidates")
    layered = alt.LayerChart(layer=layers, title=title)
    sized: alt.LayerChart = layered.properties(width=360, height=alt.Step(18))
    return sized


def _offline_mimebundle(spec: dict[str, Any], **_: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    import vl_convert  # only a notebook display needs it; plain chart code does not

    svg: str = vl_convert.vegalite_to_svg(spec)
    png: bytes = vl_convert.svg_to_png(svg, scale=1.5)  # the same image, without compiling the spec twice
    bundle = {
        VEGALITE_MIMETYPE: spec,
        "image/svg+xml": svg,
        # JupyterLab draws no SVG (unsafe) nor an unknown Vega-Lite version in a notebook that
        # is not trusted (any executed report it opens): the PNG shows without `jupyter trust`.
        "image/png": base64.b64encode(png).decode("ascii"),
        "text/plain": f"<chart: {json.dumps(spec.get('title', ''))[:80]}>",
    }
    return bundle, {}


def use_offline_renderer() -> None:
    """Show charts as static SVG and PNG plus the Vega-Lite spec: no JavaScript from any CDN.

    JupyterLab shows the PNG in an untrusted notebook, else the SVG (it draws the spec itself
    when it knows its Vega-Lite version);
    the HTML reports draw the spec with the Vega JavaScript inlined once per page.
    """
    alt.renderers.register("selfheal-offline", _offline_mimebundle)
    alt.renderers.enable("selfheal-offline")


FLAKY_SCHEMA: Final = {
    "title": pl.String,
    "label": pl.String,
    "source": pl.String,
    "projects": pl.String,
    "attempts": pl.Int64,
    "failed_attempts": pl.Int64,
    "rate": pl.Float64,
    "flaky": pl.Boolean,
    "file_url": pl.String,
}


def flaky_frame(tests: Iterable[FailingTest], *, clean_text: TextCleaner = scrubbed) -> pl.DataFrame:
    """The failing tests that are flaky (passed on a retry): rate, projects and attempts."""
    rows = [
        {
            "title": _shorten(clean_text(t.title), TOOLTIP_CHARS),
            "label": _shorten(clean_text(t.title), LABEL_CHARS),
            "source": t.source,
            "projects": ", ".join(t.projects) or "(default)",
            "attempts": t.attempts,
            "failed_attempts": t.failed_attempts,
            "rate": round(t.failure_rate, 3),
            "flaky": t.flaky,
            "file_url": _http_url(t.file_url),
        }
        for t in tests
        if t.flaky
    ]
    return pl.DataFrame(rows, schema=FLAKY_SCHEMA).sort(["rate", "attempts"], descending=True)


def flaky_chart(frame: pl.DataFrame, *, limit: int = 20) -> alt.Chart:
    """Flaky tests by failure rate (failed attempts / attempts); bars link to the test's file."""
    top = frame.head(limit)
    title = _empty_note(frame, "Flaky tests: failure rate over their attempts")
    chart: alt.Chart = (
        alt.Chart(top, title=title)
        .mark_bar(color="#e6a100")
        .encode(
            y=alt.Y("label:N", sort="-x", title=None, axis=alt.Axis(labelLimit=420)),
            x=alt.X("rate:Q", title="failed attempts / attempts", scale=alt.Scale(domain=[0, 1])),
            href=alt.Href("file_url:N"),
            tooltip=["title:N", "projects:N", "attempts:Q", "failed_attempts:Q", "rate:Q"],
        )
        .properties(width=360, height=alt.Step(18))
    )
    return chart
