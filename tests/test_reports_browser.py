"""One run of the notebooks on the sample, checked as files, then opened in headless Chromium.

The run (and a failed one beside it) is made once for this module: every notebook runs in
order with the package's results, and every report and the index open from file:// with the
network off: no request leaves the file system, nothing is logged as an error, and every chart
drew (a Vega SVG in each chart holder). Chromium comes from Debian's package (`make browser`
installs it; `make test` depends on that target).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from browser_support.chromium import DevTools, chromium_devtools, find_chromium, visit
from nbformat.v4 import new_code_cell, new_notebook

from selfheal import pipeline
from selfheal.contracts import contract_errors
from selfheal.errors import NotebookError
from selfheal.reporting.html import PageInfo, notebook_to_html
from selfheal.runner import RunResult, run_notebooks

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
FAKE_TOKENS = {
    "GITHUB_TOKEN": "ghp_" + "BrowserCheckFakeToken" * 2,
    "SENTRY_AUTH_TOKEN": "sntrys_browserCheckFakeSentryToken42",
}


STAGES = ["01-pull", "02-normalize", "03-analyze", "04-pull-requests"]


@dataclass(frozen=True)
class SampleRun:
    reports: Path
    out: Path
    result: RunResult


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> SampleRun:
    """A sample run and a failed run, as `selfheal run` writes them, with tokens in the environment."""
    base = tmp_path_factory.mktemp("browser")
    folder = base / "reports"
    with pytest.MonkeyPatch.context() as mp:
        for name, value in FAKE_TOKENS.items():
            mp.setenv(name, value)
        for name in ("GITHUB_OWNER", "GITHUB_REPO", "GITHUB_REPOSITORY", "BUGSINK_TOKEN"):
            mp.delenv(name, raising=False)
        # Issue 13: the sample is read only when asked for by name.
        sample = {"source": "sample", "playwright_report": "sample", "junit_report": ""}
        result = run_notebooks(
            ROOT / "notebooks", folder, params=sample, run_id="sample", out_dir=base / "out", cwd=ROOT
        )

        failing = base / "failing-notebooks"
        failing.mkdir()
        nb = new_notebook(
            metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
        )
        params = new_code_cell('out_dir: str = "out"  # out')
        params.metadata["tags"] = ["parameters"]
        nb.cells = [
            params,
            new_code_cell('import os\nraise ValueError("bad input " + os.environ["GITHUB_TOKEN"])'),
        ]
        nbformat.write(nb, str(failing / "01-fails.ipynb"))
        with pytest.raises(NotebookError):
            run_notebooks(failing, folder, run_id="failed", out_dir=base / "out2", cwd=base)
    return SampleRun(reports=folder, out=base / "out", result=result)


@pytest.fixture(scope="module")
def reports(sample_run: SampleRun) -> Path:
    return sample_run.reports


def test_every_notebook_runs_in_order_on_the_sample_with_the_packages_results(
    sample_run: SampleRun, tmp_path: Path
) -> None:
    result, out, reports = sample_run.result, sample_run.out, sample_run.reports
    assert result.ok
    assert [nb.status for nb in result.record.notebooks] == ["ok"] * 4
    for name in STAGES:
        page = reports / "sample" / f"{name}.html"
        assert page.is_file()
        assert page.stat().st_size < 3_000_000, "a report stays under 3 MB"
        executed = nbformat.read(str(reports / "sample" / f"{name}.ipynb"), as_version=4)
        assert executed.metadata["papermill"]["parameters"]["out_dir"] == str(out)
    assert (reports / "index.html").is_file()
    assert (out / "pr_plan.json").is_file()

    # The same calls made directly (what the CLI does) give the same tasks.
    direct = tmp_path / "direct"
    pipeline.pull("sample", direct, progress=False)
    pipeline.normalize(
        direct,
        sentry=direct / "sentry_errors.json",
        playwright=pipeline.sample_path("playwright-report.json"),
        config_root=ROOT,
    )
    from_notebooks = json.loads((out / "patchtasks.json").read_text(encoding="utf-8"))
    assert from_notebooks == json.loads((direct / "patchtasks.json").read_text(encoding="utf-8"))
    assert from_notebooks
    assert all(contract_errors(task) == [] for task in from_notebooks)
    assert result.headline.tasks == len([t for t in from_notebooks if t["status"] != "resolved"])

    analyze = nbformat.read(str(reports / "sample" / "03-analyze.ipynb"), as_version=4)
    charts = [o for c in analyze.cells for o in c.get("outputs", []) if "image/svg+xml" in o.get("data", {})]
    assert len(charts) == 8


@pytest.fixture(scope="module")
def browser() -> Iterator[DevTools]:
    if find_chromium() is None:
        pytest.fail("chromium is not installed: run `make browser` (Debian package `chromium`)")
    with chromium_devtools() as tools:
        yield tools


PAGES = [
    "index.html",
    "sample/01-pull.html",
    "sample/02-normalize.html",
    "sample/03-analyze.html",
    "sample/04-pull-requests.html",
    "failed/01-fails.html",
]


@pytest.mark.browser
@pytest.mark.parametrize("page", PAGES)
def test_report_opens_offline_with_no_request_no_error_and_every_chart_drawn(
    reports: Path, browser: DevTools, page: str
) -> None:
    seen = visit(browser, reports / page)
    assert seen.requests, "the page itself was requested"
    assert seen.off_filesystem_requests == []
    assert seen.console_errors == []
    assert seen.exceptions == []
    assert seen.drawn == seen.charts
    assert seen.views == seen.charts
    for token in FAKE_TOKENS.values():
        assert token not in seen.text
        assert token not in (reports / page).read_text(encoding="utf-8")


@pytest.mark.browser
def test_the_analysis_report_draws_all_its_charts(reports: Path, browser: DevTools) -> None:
    seen = visit(browser, reports / "sample" / "03-analyze.html")
    assert seen.charts == 8
    assert seen.drawn == 8
    assert seen.marks >= 8
    assert "Near-duplicate candidates" in seen.text


@pytest.mark.browser
def test_the_failed_report_says_which_cell_failed_and_why(reports: Path, browser: DevTools) -> None:
    seen = visit(browser, reports / "failed" / "01-fails.html")
    assert "failed at cell" in seen.text
    assert "ValueError" in seen.text
    assert "[REDACTED" in seen.text


@pytest.mark.browser
def test_the_index_links_every_run(reports: Path, browser: DevTools) -> None:
    seen = visit(browser, reports / "index.html")
    assert "sample" in seen.text
    assert "failed" in seen.text
    html = (reports / "index.html").read_text(encoding="utf-8")
    for page in PAGES[1:]:
        assert f'href="{page}"' in html


@pytest.mark.browser
def test_the_check_catches_cdn_scripts_and_broken_charts(tmp_path: Path, browser: DevTools) -> None:
    """The harness itself can fail: a CDN script and an unparseable chart are both reported."""
    nb = new_notebook()
    cell = new_code_cell("chart")
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={"application/vnd.vegalite.v6+json": {"mark": "nonsense-mark", "data": {"values": []}}},
        )
    ]
    nb.cells = [cell]
    page = notebook_to_html(nb, PageInfo(run_id="neg", notebook="neg"))
    page = page.replace("</head>", '<script src="https://cdn.jsdelivr.net/npm/vega@6"></script></head>')
    path = tmp_path / "negative.html"
    path.write_text(page, encoding="utf-8")
    seen = visit(browser, path, settle_seconds=3.0)  # the broken chart never draws: no need to wait 20 s
    assert seen.off_filesystem_requests == ["https://cdn.jsdelivr.net/npm/vega@6"]
    assert seen.console_errors or seen.exceptions
    assert seen.drawn < seen.charts
