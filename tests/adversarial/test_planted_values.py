"""Planted secrets and personal data in every field of every source never reach an artifact.

One run: a Sentry export, a Playwright JSON report and a JUnit XML report (the repository's
fixtures, every text field extended with a planted value of one of 39 kinds) are normalized,
planned (``pr --dry-run``) and published to the fake GitHub. Every artifact is then searched
for every planted value: out/*patchtasks.json, out/pr_plan.json, the previews, the fake
GitHub's stored PR titles and bodies and the committed ``.selfheal/tasks/*.md`` files. The
executed notebooks and HTML reports are checked in a slow test. ``out/sentry_errors.json`` is
the raw Sentry answer and is documented as raw (docs/security.md); it is not an artifact.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from adversarial.planted import KIND_MAKERS, Plant, Planter
from adversarial.sources import planted_junit, planted_playwright, planted_sentry
from selfheal.cli import main
from selfheal.config import load_config
from selfheal.normalize import build_tasks
from selfheal.pipeline import read_failures
from selfheal.testing.fake_github import FakeGitHub
from selfheal.testing.fake_sentry import FakeSentry

TOKEN = "ghp_AdversarialToken0123456789abcdefghij"


@dataclass(frozen=True, slots=True)
class PlantedRun:
    folder: Path
    out: Path
    plants: list[Plant]
    sources: dict[str, Path]
    #: The plants whose value would be in the tasks if nothing were scrubbed.
    reaching: list[Plant]


def _reaching(plants: list[Plant], sources: dict[str, Path], folder: Path) -> list[Plant]:
    config = load_config(folder)
    failures = read_failures(config=config, **dict(sources.items()))
    tasks = build_tasks(failures, config)  # unscrubbed: what the sources carry into tasks
    text = json.dumps([t.to_json() for t in tasks], ensure_ascii=False)
    return [p for p in plants if p.needle in text]


@pytest.fixture(scope="module")
def planted_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlantedRun]:
    folder = tmp_path_factory.mktemp("planted")
    planter = Planter()
    sources = {
        "sentry": planted_sentry(folder, planter),
        "playwright": planted_playwright(folder, planter),
        "junit": planted_junit(folder, planter),
    }
    out = folder / "out"
    argv = ["normalize", "--out", str(out), "--min-frequency", "0", "--config-root", str(folder)]
    for name, path in sources.items():
        argv += [f"--{name}", str(path)]
    assert main(argv) == 0
    return PlantedRun(folder, out, planter.plants, sources, _reaching(planter.plants, sources, folder))


def _leaks(plants: list[Plant], text: str) -> list[Plant]:
    return [p for p in plants if p.needle in text]


def _describe(leaks: list[Plant]) -> str:
    return ", ".join(f"{kind} x{n}" for kind, n in Counter(p.kind for p in leaks).most_common())


def test_the_planted_values_reach_the_tasks_so_the_checks_can_fail(planted_run: PlantedRun) -> None:
    # Without scrubbing, values of every kind would be in the tasks: the checks below are real.
    assert len(planted_run.plants) >= 800
    assert {p.kind for p in planted_run.reaching} == set(KIND_MAKERS)
    assert len(planted_run.reaching) >= 100


def test_no_planted_value_in_the_patchtask_files(planted_run: PlantedRun) -> None:
    files = sorted(planted_run.out.glob("*patchtasks.json"))
    assert files
    text = "\n".join(f.read_text(encoding="utf-8") for f in files)
    assert "[REDACTED:" in text
    leaks = _leaks(planted_run.plants, text)
    assert not leaks, _describe(leaks)


def test_no_planted_value_in_the_plan_and_previews(
    planted_run: PlantedRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(planted_run.folder)
    assert main(["pr", "--dry-run", "--all", "--max-new", "100", "--out", str(planted_run.out)]) == 0
    previews = sorted((planted_run.out / "pr_previews").glob("*.md"))
    assert previews
    text = (planted_run.out / "pr_plan.json").read_text(encoding="utf-8")
    text += "\n".join(p.read_text(encoding="utf-8") for p in previews)
    leaks = _leaks(planted_run.plants, text)
    assert not leaks, _describe(leaks)
    assert "Removed before publishing" in text


def test_no_planted_value_reaches_github(planted_run: PlantedRun, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(planted_run.folder)
    with FakeGitHub(token=TOKEN) as gh:
        repo = gh.add_repo("acme", "shop")
        monkeypatch.setenv("GITHUB_API_URL", gh.base_url)
        monkeypatch.setenv("GITHUB_OWNER", "acme")
        monkeypatch.setenv("GITHUB_REPO", "shop")
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        out = planted_run.folder / "out-github"
        out.mkdir()
        for path in planted_run.out.glob("*patchtasks.json"):
            (out / path.name).write_bytes(path.read_bytes())
        assert main(["pr", "--all", "--max-new", "100", "--out", str(out)]) == 0
        assert gh.errors == []
        pulls = repo.pulls()
        assert len(pulls) >= 20
        published = [f"{pr.title}\n{pr.body}" for pr in pulls]
        published += [text for pr in pulls for text in repo.files(pr.head).values()]
        published += [c.get("body", "") for pr in pulls for c in pr.comments]
    text = "\n".join(published)
    assert ".selfheal/tasks" in text or "Fix task" in text
    leaks = _leaks(planted_run.plants, text)
    assert not leaks, _describe(leaks)


@pytest.mark.slow
def test_no_planted_value_in_the_reports_and_executed_notebooks(
    planted_run: PlantedRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(planted_run.folder)
    with FakeSentry.from_export(planted_run.sources["sentry"]) as sentry:
        # 01-pull pulls the planted export from the fake Sentry; 02 normalizes it with the
        # planted Playwright and JUnit reports; 03 and 04 show and plan the tasks.
        monkeypatch.setenv("SENTRY_AUTH_TOKEN", sentry.token)
        monkeypatch.setenv("SENTRY_ORG", sentry.org)
        monkeypatch.setenv("SENTRY_BASE_URL", sentry.base_url)
        params = planted_run.folder / "params.json"
        params.write_text(
            json.dumps(
                {
                    "source": "sentry",
                    "playwright_report": str(planted_run.sources["playwright"]),
                    "junit_report": str(planted_run.sources["junit"]),
                    "min_frequency": 0,
                }
            )
        )
        reports = planted_run.folder / "reports"
        out = planted_run.folder / "out-run"
        code = main(["run", "--params", str(params), "--reports", str(reports), "--out", str(out)])
    assert code == 0
    files = [p for p in reports.rglob("*") if p.suffix in (".html", ".ipynb")]
    assert sum(p.suffix == ".ipynb" for p in files) == 4
    text = "\n".join(p.read_text(encoding="utf-8") for p in files)
    assert "[REDACTED:" in text
    leaks = _leaks(planted_run.plants, text)
    assert not leaks, _describe(leaks)
