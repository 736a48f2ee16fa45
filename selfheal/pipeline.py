"""File-level pipeline steps shared by the CLI, the notebooks and the demo.

Each step reads its inputs from files, calls the pure stages, and writes its outputs
atomically. Nothing here is notebook-specific: a notebook cell and a CLI command call the
same function with the same arguments.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from selfheal.config import Config, load_config
from selfheal.contracts import load_tasks, save_tasks
from selfheal.dedup import load_rules, rule_warnings
from selfheal.errors import ConfigError, InputError
from selfheal.models import SEVERITIES, PatchTask
from selfheal.normalize import build_tasks, merge_tasks
from selfheal.owners import CodeOwners
from selfheal.paths import RepoTree
from selfheal.records import Failure
from selfheal.settings import SentrySettings, secret_values

if TYPE_CHECKING:
    from selfheal.sources.sentry_api import PullReport

__all__ = [
    "NormalizeSummary",
    "load_all_tasks",
    "normalize",
    "pull",
    "resolve_source",
    "sample_path",
]

OUTPUT_NAMES = {
    "merged": "patchtasks.json",
    "sentry": "patchtasks.json",
    "playwright": "playwright_patchtasks.json",
    "junit": "junit_patchtasks.json",
}


def sample_path(name: str) -> Path:
    """A file of the bundled sample data (``sentry_errors.json``, ``playwright-report.json`` …)."""
    return Path(str(resources.files("selfheal.data").joinpath("sample", name)))


@dataclass(frozen=True, slots=True)
class NormalizeSummary:
    path: Path
    raw_items: int
    tasks: int
    by_severity: Mapping[str, int] = field(default_factory=dict)
    by_source: Mapping[str, int] = field(default_factory=dict)
    by_status: Mapping[str, int] = field(default_factory=dict)
    merged_items: int = 0
    #: Rules-file entries that match no task (see :func:`selfheal.dedup.rule_warnings`).
    warnings: tuple[str, ...] = ()

    def summary(self) -> str:
        severities = ", ".join(f"{self.by_severity.get(s, 0)} {s}" for s in SEVERITIES)
        resolved = self.by_status.get("resolved", 0)
        gone = f" + {resolved} resolved since last run" if resolved else ""
        return (
            f"{self.raw_items} raw items -> {self.tasks - resolved} PatchTasks ({severities}){gone}; "
            f"{self.merged_items} duplicates merged -> {self.path}"
        )


def resolve_source(source: str, environ: Mapping[str, str] | None = None) -> str:
    """``auto`` → ``sentry`` when SENTRY_AUTH_TOKEN and SENTRY_ORG are set, else ``sample``."""
    if source != "auto":
        return source
    env = os.environ if environ is None else environ
    return "sentry" if env.get("SENTRY_AUTH_TOKEN") and env.get("SENTRY_ORG") else "sample"


def pull(
    source: str = "auto",
    out_dir: str | Path = "out",
    *,
    limit: int | None = None,
    projects: Sequence[str] = (),
    stats_period: str = "14d",
    environ: Mapping[str, str] | None = None,
    progress: bool | None = None,
) -> PullReport:
    """Pull errors into ``out_dir/sentry_errors.json``.

    ``source``: ``"sample"`` serves the bundled export from the built-in Sentry simulator on
    127.0.0.1 and pulls it through the real client (no credentials, no network);
    ``"sentry"`` pulls from Sentry with the environment's settings; ``"bugsink"`` from Bugsink;
    ``"auto"`` is ``sentry`` when Sentry credentials are in the environment, else ``sample``
    (so a plain ``selfheal run`` never overwrites real data with the sample).
    """
    from selfheal.sources.sentry_api import pull_sentry  # I/O stage, imported on use

    out = Path(out_dir)
    source = resolve_source(source, environ)
    if source == "sample":
        from selfheal.testing.fake_sentry import FakeSentry

        with FakeSentry.from_export(sample_path("sentry_errors.json")) as fake:
            settings = SentrySettings(org=fake.org, base_url=fake.base_url, token=fake.token, limit=10)
            return pull_sentry(settings, out=out, limit=0 if limit is None else limit, progress=progress)
    if source == "sentry":
        settings = SentrySettings.from_env(environ)
        return pull_sentry(
            settings,
            out=out,
            limit=limit,
            projects=projects,
            stats_period=stats_period,
            progress=progress,
        )
    if source == "bugsink":
        from selfheal.settings import BugsinkSettings
        from selfheal.sources.bugsink import pull_bugsink

        return pull_bugsink(BugsinkSettings.from_env(environ), out=out, limit=limit, progress=progress)
    raise ConfigError("source", f"unknown source {source!r}; use auto, sample, sentry or bugsink")


def _min_frequency(explicit: int | None, config: Config, environ: Mapping[str, str]) -> int:
    if explicit is not None:
        return explicit
    raw = environ.get("SENTRY_ERROR_MIN_FREQUENCY", "").strip()
    if raw:
        try:
            return int(raw)
        except ValueError:
            raise ConfigError("SENTRY_ERROR_MIN_FREQUENCY", f"must be a whole number, got {raw!r}") from None
    return config.min_frequency


def read_failures(
    *,
    sentry: str | Path | None = None,
    playwright: str | Path | None = None,
    junit: str | Path | None = None,
    config: Config,
    tree: RepoTree | None = None,
) -> list[Failure]:
    """Typed records from any subset of the three inputs.

    A Playwright JSON report and JUnit XML of the same run describe each test twice: the JSON
    wins for every test it has a result for, and the JUnit file adds only the others.
    """
    from selfheal.sources.playwright import load_playwright_run, without_tests_described_by

    failures: list[Failure] = []
    if sentry is not None:
        from selfheal.sources.sentry import load_sentry_export

        failures += load_sentry_export(sentry, mappings=config.paths, tree=tree)
    run = None
    if playwright is not None:
        run = load_playwright_run(
            playwright, repo_root=config.repo_root if tree is not None else None, tree=tree
        )
        failures += run.failures
    if junit is not None:
        from selfheal.sources.junit import parse_junit

        junit_failures = parse_junit(junit, tree=tree)
        failures += without_tests_described_by(junit_failures, run) if run is not None else junit_failures
    return failures


def normalize(
    out_dir: str | Path = "out",
    *,
    sentry: str | Path | None = None,
    playwright: str | Path | None = None,
    junit: str | Path | None = None,
    previous: str | Path | None = None,
    rules: str | Path | None = None,
    min_frequency: int | None = None,
    config_root: str | Path = ".",
    output: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> NormalizeSummary:
    """Normalize any subset of inputs into one merged PatchTask file.

    The output is ``out/patchtasks.json`` when Sentry is among the inputs or several are
    given, else ``out/playwright_patchtasks.json`` / ``out/junit_patchtasks.json`` (the
    original pipeline's names). ``previous``: last run's PatchTasks, for new / ongoing /
    regressed / resolved. ``rules``: the human merge/split decisions (default: the config's
    ``rules_file`` in ``config_root``, if present).
    """
    given = {"sentry": sentry, "playwright": playwright, "junit": junit}
    chosen = [k for k, v in given.items() if v is not None]
    if not chosen:
        raise ConfigError("normalize", "give at least one input (sentry, playwright or junit)")
    config = load_config(config_root)
    env = os.environ if environ is None else environ
    tree = RepoTree.scan(config.repo_root)
    failures = read_failures(sentry=sentry, playwright=playwright, junit=junit, config=config, tree=tree)
    rules_path = Path(rules) if rules is not None else config.repo_root / config.rules_file
    if rules is not None and not rules_path.exists():
        raise InputError(rules_path, "rules file not found")
    previous_tasks = load_tasks(previous) if previous is not None else None
    merge_rules = load_rules(rules_path)
    tasks = build_tasks(
        failures,
        config,
        rules=merge_rules,
        previous=previous_tasks,
        min_frequency=_min_frequency(min_frequency, config, env) if sentry is not None else 0,
        tree=tree,
        codeowners=CodeOwners.find(config.repo_root),
    )
    name = OUTPUT_NAMES["merged" if len(chosen) > 1 else chosen[0]]
    path = Path(output) if output is not None else Path(out_dir) / name
    save_tasks(path, tasks, secrets=secret_values(env))  # scrubbed at the source (issue 16)
    live = [t for t in tasks if t.status != "resolved"]
    return NormalizeSummary(
        path=path,
        raw_items=len(failures),
        tasks=len(tasks),
        by_severity=dict(Counter(t.severity for t in live)),
        by_source=dict(Counter(s for t in live for s in t.sources)),
        by_status=dict(Counter(t.status for t in tasks)),
        merged_items=sum(len(t.occurrences) - 1 for t in live),
        warnings=tuple(rule_warnings(merge_rules, tasks)),
    )


def load_all_tasks(out_dir: str | Path = "out") -> list[PatchTask]:
    """Every ``out/*patchtasks.json``, tasks with one fingerprint merged across files."""
    folder = Path(out_dir)
    files = sorted(folder.glob("*patchtasks.json"))
    if not files:
        raise InputError(folder, "no *patchtasks.json here; run `selfheal normalize` first")
    tasks: list[PatchTask] = []
    for path in files:
        tasks += load_tasks(path)
    return merge_tasks(tasks)
