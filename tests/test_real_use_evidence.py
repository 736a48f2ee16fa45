"""Issue 13: QA evidence from a team's own test report: flaky tests as their own view, file
and line linked to the repository, screenshots as size-capped thumbnails, traces named."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import vl_convert

from selfheal import charts, pipeline
from selfheal.reporting.tables import failing_tests_table
from selfheal.sources.playwright import load_playwright_report

FIXTURES = Path(__file__).parent / "fixtures" / "real_use"
REPORT = FIXTURES / "playwright-report.json"


def tiny_png() -> bytes:
    spec = {
        "data": {"values": [{"a": 1}]},
        "mark": "bar",
        "encoding": {"x": {"field": "a", "type": "quantitative"}},
    }
    png: bytes = vl_convert.vegalite_to_png(spec, scale=0.5)
    return png


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "acme"
    (root / "playwright-report").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(
        ["git", "-C", str(root), "remote", "add", "origin", "git@github.com:acme/shop.git"], check=True
    )
    (root / "pyproject.toml").write_text('[project]\nname = "acme"\nversion = "1"\n', encoding="utf-8")
    shutil.copy(REPORT, root / "playwright-report" / "report.json")
    for name in list(os.environ):
        if name.startswith(("SENTRY_", "GITHUB_", "BUGSINK_", "SELFHEAL_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(root)
    return root


def test_failing_tests_carry_flaky_rate_projects_links_thumbnails_and_traces(repo: Path) -> None:
    failures = load_playwright_report(REPORT)
    shots = sorted({f.screenshot for f in failures if f.screenshot})
    small, big = repo / shots[0], repo / shots[1]
    small.parent.mkdir(parents=True)
    small.write_bytes(tiny_png())
    big.parent.mkdir(parents=True, exist_ok=True)
    big.write_bytes(tiny_png() + b"\0" * (pipeline.MAX_THUMBNAIL_BYTES + 1))
    flaky_failure = next(f for f in failures if f.outcome == "flaky")
    if flaky_failure.screenshot:
        trace_dir = (repo / flaky_failure.screenshot).parent
        trace_dir.mkdir(parents=True, exist_ok=True)
        (trace_dir / "trace.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)

    pipeline.normalize_run("out")
    found = pipeline.failing_tests("out")

    by_title: dict[str, list[object]] = {}
    for f in failures:
        by_title.setdefault(f.title, []).append(f)
    assert {t.title for t in found} == set(by_title)
    for test in found:
        raw = [f for f in failures if f.title == test.title]
        assert test.attempts == sum(f.attempts for f in raw)
        assert test.failed_attempts == sum(f.failed_attempts for f in raw)
        assert set(test.projects) == {f.project for f in raw if f.project}
        assert test.file_url is not None
        assert test.file_url.startswith("https://github.com/acme/shop/blob/HEAD/")
        assert test.file_url.split("/blob/HEAD/", 1)[1].split("#")[0] == test.file
        if test.line:
            assert test.file_url.endswith(f"#L{test.line}")
    flaky = [t for t in found if t.flaky]
    assert [t.title for t in flaky] == [flaky_failure.title]
    assert flaky[0].trace is not None
    assert flaky[0].trace.endswith("trace.zip")

    embedded = [t for t in found if t.thumbnail]
    assert {t.screenshot for t in embedded} == {shots[0]}, "only the small screenshot is embedded"
    assert embedded[0].thumbnail is not None
    assert embedded[0].thumbnail.startswith("data:image/png;base64,")

    frame = charts.flaky_frame(found)
    assert frame.height == len(flaky)
    assert frame["rate"].to_list() == [round(t.failure_rate, 3) for t in flaky]
    page = failing_tests_table(found, limit=100)._repr_html_()
    assert page.count("<img ") == 1
    assert "max-width: 240px" in page
    assert f"{shots[1]}</code> (not embedded)" in page
    assert 'href="https://github.com/acme/shop/blob/HEAD/' in page


@pytest.mark.slow
@pytest.mark.browser
def test_the_normalize_report_shows_the_thumbnail_and_the_flaky_view_in_chromium(repo: Path) -> None:
    from browser_support.chromium import chromium_devtools, count_on_page, find_chromium, visit

    from selfheal.runner import run_notebooks

    if find_chromium() is None:
        pytest.fail("chromium is not installed: run `make browser` (Debian package `chromium`)")
    failures = load_playwright_report(REPORT)
    shot = repo / next(f.screenshot for f in failures if f.screenshot)
    shot.parent.mkdir(parents=True)
    shot.write_bytes(tiny_png())
    notebooks = Path(__file__).resolve().parents[1] / "notebooks"
    run_notebooks(notebooks, params={"junit_report": ""}, run_id="qa", cwd=repo)
    page = repo / "reports" / "qa" / "02-normalize.html"
    with chromium_devtools() as tools:
        seen = visit(tools, page)
        shown = count_on_page(
            tools,
            page,
            "[...document.querySelectorAll('img[src^=\"data:image/png\"]')]"
            ".filter(i => i.complete && i.naturalWidth > 0 && i.width <= 240).length",
        )
    assert seen.off_filesystem_requests == []
    assert seen.console_errors == []
    assert seen.drawn == seen.charts
    assert "Flaky tests" in seen.text
    assert shown == 1
