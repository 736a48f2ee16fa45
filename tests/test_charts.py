"""Charts aggregate in polars before plotting; checked through ``chart.to_dict()``."""

from __future__ import annotations

import base64
import json
from typing import Any

import altair as alt
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from selfheal import charts
from selfheal.models import Evidence, ExpectedFix, Occurrence, PatchTask
from selfheal.reporting.tables import near_duplicates_table, records_table, task_table

DAY = 86_400
T0 = 1_700_000_000 - 1_700_000_000 % DAY


def make_task(n: int, **changes: Any) -> PatchTask:
    task = PatchTask(
        id=f"sentry-{n}",
        title=f"TypeError: cannot read property {n}",
        area="frontend",
        owner=f"team-{n % 3}",
        severity=("blocker", "high", "medium", "low")[n % 4],  # type: ignore[arg-type]
        frequency=10 * n + 1,
        last_seen="2026-01-11T15:22:36Z",
        fingerprint=f"fp{n:04d}",
        source="sentry",
        users=n,
        occurrences=(Occurrence("sentry", str(n)),),
        evidence=Evidence(sentry_url=f"https://acme.sentry.io/issues/{n}/"),
        expected_fix=ExpectedFix(files_hint=(f"src/module{n % 2}.ts",)),
        stats=tuple((T0 + d * DAY, n + d) for d in range(3)),
    )
    return task.with_changes(**changes)


def chart_rows(chart: Any) -> list[dict[str, Any]]:
    """The data rows a (single or layered) chart plots."""
    spec = chart.to_dict()
    data = spec.get("data") or spec["layer"][0]["data"]
    rows: list[dict[str, Any]] = spec["datasets"][data["name"]]
    return rows


def test_tasks_frame_has_the_named_schema_and_scrubs_titles() -> None:
    secret_title = "Auth failed for alice@example.com with ghp_" + "a" * 36 + " " + "x" * 500
    frame = charts.tasks_frame([make_task(1, title=secret_title), make_task(2)])
    assert frame.schema == charts.TASKS_SCHEMA
    title = frame["title"][0]
    assert "alice@example.com" not in title
    assert "ghp_" not in title
    assert len(title) <= charts.TOOLTIP_CHARS
    assert len(frame["label"][0]) <= charts.LABEL_CHARS
    assert frame["sentry_url"].to_list() == [
        "https://acme.sentry.io/issues/1/",
        "https://acme.sentry.io/issues/2/",
    ]


def test_tasks_frame_drops_links_that_are_not_http() -> None:
    task = make_task(1, evidence=Evidence(sentry_url="javascript:alert(1)"))
    assert charts.tasks_frame([task])["sentry_url"].to_list() == [None]


def test_severity_chart_counts_tasks_per_severity_including_empty_ones() -> None:
    tasks = [make_task(n) for n in (0, 1, 4, 5, 8)]  # blocker x3, high x2
    rows = chart_rows(charts.severity_chart(charts.tasks_frame(tasks)))
    by_severity = {r["severity"]: r["tasks"] for r in rows}
    assert by_severity == {"blocker": 3, "high": 2, "medium": 0, "low": 0}
    spec = charts.severity_chart(charts.tasks_frame(tasks)).to_dict()
    assert spec["encoding"]["x"]["sort"] == ["blocker", "high", "medium", "low"]


@pytest.mark.parametrize("by", ["frequency", "users"])
def test_top_tasks_chart_keeps_the_largest_and_links_to_sentry(by: str) -> None:
    tasks = [make_task(n) for n in range(30)]
    chart = charts.top_tasks_chart(charts.tasks_frame(tasks), by=by, limit=5)  # type: ignore[arg-type]
    rows = chart_rows(chart)
    assert [r[by] for r in rows] == sorted((r[by] for r in rows), reverse=True)
    assert len(rows) == 5
    assert rows[0]["sentry_url"] == "https://acme.sentry.io/issues/29/"
    assert chart.to_dict()["encoding"]["href"]["field"] == "sentry_url"


def test_events_over_time_keeps_top_series_and_sums_the_rest_as_other() -> None:
    tasks = [make_task(n) for n in range(1, 6)]
    stats = charts.stats_frame(tasks)
    rows = chart_rows(charts.events_over_time_chart(stats, top=2))
    series = {r["series"] for r in rows}
    assert "other" in series
    assert len(series) == 3
    other_first_day = next(
        r["events"] for r in rows if r["series"] == "other" and r["bucket_ms"] == T0 * 1000
    )
    assert other_first_day == 1 + 2 + 3  # tasks 1..3 on day 0 (n + 0)


def test_events_over_time_coarsens_buckets_to_stay_bounded() -> None:
    long_task = make_task(1, stats=tuple((T0 + h * 3600, 1) for h in range(24 * 365)))
    rows = chart_rows(charts.events_over_time_chart(charts.stats_frame([long_task]), max_points=50))
    assert len(rows) <= 51
    assert sum(r["events"] for r in rows) == 24 * 365


def test_stats_frame_adds_up_series_that_share_a_fingerprint() -> None:
    a = make_task(1, stats=((T0, 2),))
    b = make_task(2, fingerprint="fp0001", stats=((T0, 3),))
    expected = pl.DataFrame(
        {
            "fingerprint": ["fp0001"],
            "label": [charts.tasks_frame([a])["label"][0]],
            "ts": [T0],
            "events": [5],
        },
        schema=charts.STATS_SCHEMA,
    )
    assert_frame_equal(charts.stats_frame([a, b]), expected)


def test_owners_chart_groups_owners_past_the_limit_as_other() -> None:
    tasks = [make_task(n, owner=f"owner-{n}") for n in range(10)]
    rows = chart_rows(charts.owners_chart(charts.tasks_frame(tasks), limit=3))
    owners = {r["owner"] for r in rows}
    assert len(owners) == 4
    assert "other" in owners
    assert sum(r["tasks"] for r in rows) == 10


def test_suggested_files_counts_tasks_per_file() -> None:
    tasks = [make_task(n) for n in range(5)]
    rows = chart_rows(charts.suggested_files_chart(charts.tasks_frame(tasks)))
    assert {r["file"]: r["tasks"] for r in rows} == {"src/module0.ts": 3, "src/module1.ts": 2}


def test_week_over_week_counts_every_status() -> None:
    tasks = [
        make_task(0, status="new"),
        make_task(4, status="new"),
        make_task(1, status="regressed"),
        make_task(2, status="resolved"),
    ]
    rows = chart_rows(charts.week_over_week_chart(charts.tasks_frame(tasks)))
    totals: dict[str, int] = {}
    for r in rows:
        totals[r["status"]] = totals.get(r["status"], 0) + r["tasks"]
    assert totals == {"new": 2, "ongoing": 0, "regressed": 1, "resolved": 1}


def test_near_duplicates_shows_both_titles_scores_and_threshold() -> None:
    frame = charts.tasks_frame([make_task(n) for n in range(4)])
    pairs = pl.DataFrame({"a": ["fp0001", "fp0002"], "b": ["fp0002", "fp0003"], "score": [0.7, 0.9]})
    candidates = charts.near_duplicates_frame(pairs, frame, limit=1)
    assert candidates["score"].to_list() == [0.9]
    assert candidates["title_a"].to_list() == ["TypeError: cannot read property 2"]
    chart = charts.near_duplicates_chart(candidates, threshold=0.6)
    spec = chart.to_dict()
    assert len(spec["layer"]) == 2
    assert chart_rows(chart)[0]["score"] == 0.9


def test_chart_size_does_not_grow_with_the_number_of_tasks() -> None:
    def size(n: int) -> int:
        tasks = [make_task(i) for i in range(n)]
        frame = charts.tasks_frame(tasks)
        all_charts = [
            charts.severity_chart(frame),
            charts.top_tasks_chart(frame),
            charts.owners_chart(frame),
            charts.suggested_files_chart(frame),
            charts.week_over_week_chart(frame),
            charts.events_over_time_chart(charts.stats_frame(tasks)),
        ]
        return sum(len(json.dumps(c.to_dict())) for c in all_charts)

    assert size(3000) < size(30) * 1.5


def test_empty_input_still_makes_charts_that_say_so() -> None:
    frame = charts.tasks_frame([])
    assert charts.severity_chart(frame).to_dict()["title"] == "Tasks by severity (nothing to show)"
    assert chart_rows(charts.top_tasks_chart(frame)) == []


def test_offline_renderer_emits_svg_and_spec_without_cdn_scripts() -> None:
    previous = alt.renderers.active
    charts.use_offline_renderer()
    try:
        bundle, _ = charts.severity_chart(charts.tasks_frame([make_task(1)]))._repr_mimebundle_()
    finally:
        alt.renderers.enable(previous)
    # Issue 13 adds a PNG: untrusted notebooks in JupyterLab show neither SVG nor the v6 spec.
    assert set(bundle) == {charts.VEGALITE_MIMETYPE, "image/svg+xml", "image/png", "text/plain"}
    assert bundle["image/svg+xml"].lstrip().startswith("<svg")
    assert base64.b64decode(bundle["image/png"]).startswith(b"\x89PNG")
    assert "<script" not in json.dumps(bundle)


def test_task_table_sorts_by_severity_then_frequency_and_links_titles() -> None:
    tasks = [make_task(n) for n in range(8)]
    table = task_table(charts.tasks_frame(tasks), limit=3)
    assert len(table) == 3
    assert [row[0].text for row in table.rows] == ["blocker", "blocker", "high"]
    assert table.rows[0][3].text == "41"  # task 4: 10*4+1 events beats task 0
    html = table.to_html()
    assert '<a href="https://acme.sentry.io/issues/4/"' in html
    assert "(first 3 of 8)" in html


def test_tables_escape_markup_and_refuse_script_links() -> None:
    rows = [{"title": "<script>alert(1)</script>", "url": "javascript:alert(1)"}]
    html = records_table(rows, columns=("title",), links={"title": "url"}).to_html()
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "javascript:" not in html


def test_near_duplicates_table_links_both_tasks() -> None:
    frame = charts.tasks_frame([make_task(n) for n in range(3)])
    pairs = pl.DataFrame({"a": ["fp0001"], "b": ["fp0002"], "score": [0.8765]})
    html = near_duplicates_table(charts.near_duplicates_frame(pairs, frame)).to_html()
    assert "0.88" in html
    assert "https://acme.sentry.io/issues/1/" in html
    assert "https://acme.sentry.io/issues/2/" in html


def _chart_rows(chart: alt.Chart) -> list[dict[str, Any]]:
    spec = chart.to_dict()
    return [row for values in spec["datasets"].values() for row in values]


def test_open_means_open_severity_owners_files_and_the_table_leave_resolved_tasks_out() -> None:
    """Issue 13: the notebook said 9 open high tasks while the chart drew 12."""
    tasks = [make_task(n, status=("resolved" if n % 3 == 0 else "ongoing")) for n in range(1, 13)]
    open_tasks = [t for t in tasks if t.status != "resolved"]
    frame = charts.tasks_frame(tasks)

    by_severity = {r["severity"]: r["tasks"] for r in _chart_rows(charts.severity_chart(frame))}
    for severity in ("blocker", "high", "medium", "low"):
        assert by_severity[severity] == sum(t.severity == severity for t in open_tasks), severity
    assert sum(r["tasks"] for r in _chart_rows(charts.owners_chart(frame))) == len(open_tasks)
    files = {r["file"]: r["tasks"] for r in _chart_rows(charts.suggested_files_chart(frame))}
    assert sum(files.values()) == len(open_tasks)
    top = {r["bar"].rsplit("[", 1)[1].rstrip("]") for r in _chart_rows(charts.top_tasks_chart(frame))}
    assert top == {t.id for t in open_tasks}
    table = task_table(frame, limit=100)
    assert len(table.rows) == len(open_tasks)
    # Resolved tasks still show where they belong: the week-over-week view.
    wow = {r["status"]: 0 for r in _chart_rows(charts.week_over_week_chart(frame))}
    for r in _chart_rows(charts.week_over_week_chart(frame)):
        wow[r["status"]] += r["tasks"]
    assert wow["resolved"] == len(tasks) - len(open_tasks)


def test_affected_users_chart_draws_only_tasks_with_users() -> None:
    tasks = [make_task(n, users=(n if n % 2 else 0)) for n in range(1, 9)]
    rows = _chart_rows(charts.top_tasks_chart(charts.tasks_frame(tasks), by="users"))
    assert rows
    assert all(r["users"] > 0 for r in rows)
    assert len(rows) == sum(t.users > 0 for t in tasks)
    no_users = charts.tasks_frame([make_task(n, users=0, source="playwright") for n in range(1, 4)])
    chart = charts.top_tasks_chart(no_users, by="users")
    assert _chart_rows(chart) == []
    assert "no open task has affected users" in str(chart.to_dict()["title"])
