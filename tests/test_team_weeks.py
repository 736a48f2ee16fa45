"""Issue 13 in a team's repository: three weekly `selfheal run`s over the team's own data.

Week 1 runs from a sub-folder (`src/`), weeks 2 and 3 from the root; week 3 has no Sentry
export. The runs are made once for the module (each is a full notebook run): week 1 is checked
as the team's first run (only their data, every page says which data, nothing under the
sub-folder), the three together as the Monday dashboard (trends, comparisons, Chromium).
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import invoke_cli
from team_repo import EXPORT, bars_of, clean_env, foreign_repo, sample_titles

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class TeamWeeks:
    repo: Path
    #: ``out/`` as week 1 left it (weeks 2 and 3 rewrite the task files).
    week1_out: Path
    #: ``reports/index.html`` as week 1 left it.
    week1_index: Path
    codes: dict[str, int]


@pytest.fixture(scope="module")
def weeks(tmp_path_factory: pytest.TempPathFactory, _shared_cache: Path) -> TeamWeeks:
    base = tmp_path_factory.mktemp("team")
    repo = foreign_repo(base)
    codes: dict[str, int] = {}
    # The module's runs come before the per-test clean-up: the environment is set here, whole.
    env = {**clean_env(), "SELFHEAL_GITHUB_PACE": "0", "XDG_CACHE_HOME": str(_shared_cache)}
    for name, cwd in (("w1", repo / "src"), ("w2", repo), ("w3", repo)):
        if name == "w3":
            (repo / "out" / "sentry_errors.json").unlink()  # no production errors this week
        codes[name] = invoke_cli("run", "--run-id", name, cwd=cwd, env=env)
        if name == "w1":
            shutil.copytree(repo / "out", base / "week1-out")
            shutil.copy(repo / "reports" / "index.html", base / "week1-index.html")
        time.sleep(1.1)  # distinct file times between runs
    return TeamWeeks(repo, week1_out=base / "week1-out", week1_index=base / "week1-index.html", codes=codes)


def test_the_first_run_in_a_foreign_repository_reports_only_the_teams_data(weeks: TeamWeeks) -> None:
    assert weeks.codes["w1"] == 0
    repo, out = weeks.repo, weeks.week1_out
    assert (out / "sentry_errors.json").read_bytes() == EXPORT.read_bytes()  # not overwritten
    tasks = json.loads((out / "patchtasks.json").read_text(encoding="utf-8"))
    titles = {t["title"] for t in tasks}
    assert titles, "the team's data became tasks"
    assert not titles & sample_titles(), "no bundled sample task among the team's tasks"
    ids = {o["id"] for t in tasks for o in t.get("occurrences", []) if o["source"] == "sentry"}
    assert ids <= {"9001", "9002", "9003"}
    assert "playwright" in {s for t in tasks for s in t.get("sources", [t["source"]])}

    plan = json.loads((out / "pr_plan.json").read_text(encoding="utf-8"))
    assert not [d["title"] for d in plan["decisions"] if any(s in d["title"] for s in sample_titles())]
    assert all(d["taskId"] in {t["id"] for t in tasks} for d in plan["decisions"])

    # Every page and the index say which data: the file export and the Playwright report.
    for page in sorted((repo / "reports" / "w1").glob("*.html")):
        text = page.read_text(encoding="utf-8")
        assert "sentry: file (out/sentry_errors.json" in text, page.name
        assert "playwright: file (playwright-report/report.json" in text, page.name
        assert "SAMPLE" not in text, page.name
    index = weeks.week1_index.read_text(encoding="utf-8")
    assert "sentry: file (out/sentry_errors.json" in index
    assert str(repo.parent) not in index, "paths in the index are relative to the project"
    assert not (repo / "notebooks").exists()


def test_a_run_from_a_sub_folder_writes_the_projects_out_and_reports(weeks: TeamWeeks) -> None:
    assert weeks.codes["w1"] == 0
    assert (weeks.week1_out / "patchtasks.json").is_file()
    assert (weeks.repo / "reports" / "w1" / "03-analyze.html").is_file()
    assert list((weeks.repo / "src").iterdir()) == []


def test_three_real_runs_make_a_trend_and_each_compares_with_the_last(weeks: TeamWeeks) -> None:
    assert weeks.codes == {"w1": 0, "w2": 0, "w3": 0}
    repo = weeks.repo
    reports = repo / "reports"
    runs = {r["runId"]: r for r in json.loads((reports / "history.json").read_text())["runs"]}
    assert list(runs) == ["w1", "w2", "w3"]
    first, second, third = (runs[w]["headline"] for w in ("w1", "w2", "w3"))
    assert set(first["byStatus"]) == {"new"}
    # Issue 13: two runs in a row both said "14 new"; the last run's tasks are now `previous`.
    assert "new" not in second["byStatus"]
    assert second["byStatus"]["ongoing"] == first["tasks"]
    # Week 3 had no Sentry export: last week's Sentry-only tasks are resolved (kept aside as previous).
    last_week = json.loads((repo / "out" / "previous" / "patchtasks.json").read_text())
    sentry_only = [t for t in last_week if t.get("sources", [t["source"]]) == ["sentry"]]
    assert sentry_only
    assert third["byStatus"]["resolved"] == len(sentry_only)
    page = (reports / "index.html").read_text(encoding="utf-8")
    severity = bars_of(page, "Open tasks by severity")
    assert {bar.split(":")[0] for bar in severity} == {"w1", "w2", "w3"}
    assert str(repo) not in page, "paths relative to the project"
    assert "https://acme-corp.sentry.io/issues/" in (reports / "w2" / "run.json").read_text()
    assert not (repo / "notebooks").exists()


@pytest.mark.browser
def test_the_dashboard_renders_offline_in_chromium_with_its_charts_drawn(weeks: TeamWeeks) -> None:
    from browser_support.chromium import chromium_devtools, count_on_page, find_chromium, visit

    if find_chromium() is None:
        pytest.fail("chromium is not installed: run `make browser` (Debian package `chromium`)")
    index = weeks.repo / "reports" / "index.html"
    with chromium_devtools() as tools:
        seen = visit(tools, index, settle_seconds=3)
        drawn = count_on_page(
            tools,
            index,
            "[...document.querySelectorAll('svg.trend rect.bar')]"
            ".map(r => r.getBoundingClientRect())"
            ".filter(box => box.width > 0 && box.height > 0).length",
        )
    assert seen.off_filesystem_requests == []
    assert seen.console_errors == []
    assert seen.exceptions == []
    assert "Open tasks by severity" in (seen.text + index.read_text(encoding="utf-8"))
    assert "Top open tasks" in seen.text
    assert drawn >= 6, "bars of three runs in two trend charts"
