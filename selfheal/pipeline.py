"""File-level pipeline steps shared by the CLI, the notebooks and the demo.

Each step reads its inputs from files, calls the pure stages, and writes its outputs
atomically. Nothing here is notebook-specific: a notebook cell and a CLI command call the
same function with the same arguments.
"""

from __future__ import annotations

import base64
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from glob import escape as glob_escape
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from selfheal.config import Config, load_config
from selfheal.contracts import load_tasks, save_tasks
from selfheal.dedup import NEAR_DUPLICATE_THRESHOLD, load_rules, rule_warnings
from selfheal.errors import ConfigError, InputError
from selfheal.models import SEVERITIES, PatchTask
from selfheal.normalize import build_tasks, merge_tasks
from selfheal.owners import CodeOwners
from selfheal.paths import RepoTree
from selfheal.project import in_project, project_root, relative_to_project
from selfheal.records import Failure
from selfheal.settings import SentrySettings, min_frequency_from_env, secret_values
from selfheal.storage import read_json, write_json

if TYPE_CHECKING:
    from selfheal.sources._pull import PullReport

__all__ = [
    "DEFAULT_JUNIT_LOCATIONS",
    "DataSource",
    "FailingTest",
    "NormalizeSummary",
    "data_sources",
    "describe_data",
    "describe_pull",
    "duplicate_threshold",
    "failing_tests",
    "find_inputs",
    "fresh_data_sources",
    "load_all_tasks",
    "normalize",
    "normalize_run",
    "pull",
    "pull_sample",
    "record_pull",
    "repository_blob_url",
    "resolve_source",
    "sample_path",
]

#: Where test jobs usually leave a JUnit XML report (first found wins), relative to the project.
DEFAULT_JUNIT_LOCATIONS = (
    Path("junit.xml"),
    Path("test-results/junit.xml"),
    Path("reports/junit.xml"),
    Path("build/test-results/junit.xml"),
)
#: The Sentry export every step reads and ``selfheal pull`` writes (in the output folder).
SENTRY_EXPORT = "sentry_errors.json"
#: Origins a piece of input data can have, as the reports name them.
ORIGINS = ("sample", "sentry", "bugsink", "file")

OUTPUT_NAMES = {
    "merged": "patchtasks.json",
    "sentry": "patchtasks.json",
    "playwright": "playwright_patchtasks.json",
    "junit": "junit_patchtasks.json",
}


def sample_path(name: str) -> Path:
    """A file of the bundled sample data (``sentry_errors.json``, ``playwright-report.json`` …)."""
    return Path(str(resources.files("selfheal.data").joinpath("sample", name)))


def _is_sample(path: Path) -> bool:
    try:
        path.resolve().relative_to(sample_path("").resolve())
    except ValueError:
        return False
    return True


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _modified(path: Path) -> str:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class DataSource:
    """Where one input of a run came from, as the reports say it.

    ``kind``: sentry (the error export, whatever served it), playwright or junit.
    ``origin``: sample (the bundled demo data), sentry, bugsink, or file (a file that was there).
    ``pulled``: when it was pulled, or the file's modification time (UTC, ISO 8601).
    """

    kind: str
    origin: str
    path: str
    pulled: str
    detail: str = ""

    def to_json(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "origin": self.origin,
            "path": self.path,
            "pulled": self.pulled,
            "detail": self.detail,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> DataSource:
        return cls(
            kind=str(data.get("kind") or ""),
            origin=str(data.get("origin") or "file"),
            path=str(data.get("path") or ""),
            pulled=str(data.get("pulled") or ""),
            detail=str(data.get("detail") or ""),
        )

    def describe(self) -> str:
        origin = {"sample": "SAMPLE data", "sentry": "Sentry", "bugsink": "Bugsink", "file": "file"}.get(
            self.origin, self.origin
        )
        detail = f" {self.detail}" if self.detail else ""
        when = "pulled" if self.kind == "sentry" and self.origin != "file" else "from"
        return f"{self.kind}: {origin}{detail} ({self.path}, {when} {self.pulled})"


def _pull_record_path(export: Path) -> Path:
    return export.with_name(export.stem + ".pull.json")


def record_pull(export: str | Path, origin: str, detail: str = "") -> Path:
    """Write ``<export>.pull.json`` beside a pulled export: who served it and when."""
    path = Path(export)
    record = DataSource("sentry", origin, relative_to_project(path), _now(), detail)
    return write_json(_pull_record_path(path), record.to_json())


def _source_of(kind: str, path: Path) -> DataSource:
    """What a run's input file is: the sample, a recorded pull, or a file that was there."""
    shown = relative_to_project(path)
    if _is_sample(path):
        return DataSource(kind, "sample", f"bundled {path.name}", _modified(path))
    if kind == "sentry":
        pulled = _pull_record_path(path)
        if pulled.is_file():
            try:
                recorded = DataSource.from_json(read_json(pulled, max_bytes=64 * 1024))
            except InputError:
                recorded = None
            if recorded is not None and recorded.origin in ORIGINS:
                return DataSource(kind, recorded.origin, shown, recorded.pulled, recorded.detail)
    return DataSource(kind, "file", shown, _modified(path) if path.exists() else "")


def _sources_path(tasks_file: Path) -> Path:
    return tasks_file.with_name(tasks_file.name.removesuffix(".json") + ".sources.json")


def data_sources(out_dir: str | Path = "out") -> list[DataSource]:
    """The inputs behind every ``out/*patchtasks.json`` (from the ``*.sources.json`` beside them)."""
    return fresh_data_sources(out_dir, since=0.0)


def fresh_data_sources(out_dir: str | Path, since: float) -> list[DataSource]:
    """The inputs a run that began at ``since`` (epoch seconds) used: only files it wrote."""
    folder = in_project(out_dir)
    sidecars = [p for p in folder.glob("*patchtasks.sources.json") if p.stat().st_mtime >= since]
    found: list[DataSource] = []
    for sidecar in sorted(sidecars):
        try:
            raw = read_json(sidecar, max_bytes=256 * 1024)
        except InputError:
            continue
        for item in raw.get("inputs", []) if isinstance(raw, dict) else []:
            if isinstance(item, dict) and (source := DataSource.from_json(item)) not in found:
                found.append(source)
    pulled = _pull_record_path(folder / SENTRY_EXPORT)
    if not found and pulled.is_file() and pulled.stat().st_mtime >= since:
        found.append(_source_of("sentry", folder / SENTRY_EXPORT))
    return found


def describe_data(sources: Iterable[DataSource]) -> str:
    """One line for a report: which data this is and when it was pulled."""
    listed = list(sources)
    if not listed:
        return "Data: unknown (no record of the inputs)"
    return "Data: " + "; ".join(s.describe() for s in listed)


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
            f"{self.merged_items} duplicates merged -> {relative_to_project(self.path)}"
        )


def resolve_source(
    source: str,
    environ: Mapping[str, str] | None = None,
    *,
    out_dir: str | Path | None = None,
) -> str:
    """Which error source a pull uses; ``auto`` never means the sample.

    ``auto`` is ``sentry`` when SENTRY_AUTH_TOKEN and SENTRY_ORG are set, else ``bugsink``
    when BUGSINK_TOKEN and BUGSINK_BASE_URL are, else ``file`` when ``out_dir`` already holds
    a ``sentry_errors.json`` (reused as it is), else ``none`` (no production errors this run).
    The bundled ``sample`` is used only when asked for by name.
    """
    if source != "auto":
        return source
    env = os.environ if environ is None else environ
    if env.get("SENTRY_AUTH_TOKEN") and env.get("SENTRY_ORG"):
        return "sentry"
    if env.get("BUGSINK_TOKEN") and env.get("BUGSINK_BASE_URL"):
        return "bugsink"
    if out_dir is not None and (in_project(out_dir, env) / SENTRY_EXPORT).is_file():
        return "file"
    return "none"


def _refuse_to_replace_real_data(export: Path) -> None:
    if not export.is_file():
        return
    if _source_of("sentry", export).origin != "sample":
        raise ConfigError(
            "source",
            f"{relative_to_project(export)} holds real data (not the sample); the bundled sample "
            "never replaces it: use another output folder (selfheal demo uses its own out/)",
        )


def pull_sample(
    out_dir: str | Path = "out", *, limit: int | None = None, progress: bool | None = None
) -> PullReport:
    """The bundled sample through the built-in Sentry simulator (never over a real export).

    ``limit``: issues wanted, ``None`` = all of them.
    """
    from selfheal.sources.sentry_pull import SentryQuery, pull_sentry
    from selfheal.testing.fake_sentry import FakeSentry

    out = in_project(out_dir)
    _refuse_to_replace_real_data(out / SENTRY_EXPORT)
    with FakeSentry.from_export(sample_path("sentry_errors.json")) as fake:
        settings = SentrySettings(org=fake.org, base_url=fake.base_url, token=fake.token)
        report = pull_sentry(
            settings, SentryQuery.from_options(settings, limit=limit), out=out, progress=progress
        )
    record_pull(report.path, "sample", "bundled sample (built-in simulator)")
    return report


def _wanted(limit: int, default: int | None) -> int | None:
    """A notebook's ``limit`` as the sources take it: ``-1`` = ``default``, ``0`` = every issue."""
    if limit < -1:
        raise ConfigError("limit", f"must be -1 (the default), 0 (every issue) or more, got {limit}")
    return default if limit == -1 else limit or None


def pull(
    source: str = "auto",
    out_dir: str | Path = "out",
    *,
    limit: int = -1,
    projects: Sequence[str] = (),
    stats_period: str = "14d",
    since: str = "",
    environ: Mapping[str, str] | None = None,
    progress: bool | None = None,
) -> PullReport | None:
    """Pull errors into ``out_dir/sentry_errors.json`` (``out_dir`` relative to the project root).

    ``source``: ``"sample"`` serves the bundled export from the built-in Sentry simulator on
    127.0.0.1 and pulls it through the real client (no credentials, no network), and refuses
    to replace an export that is not the sample; ``"sentry"`` pulls from Sentry with the
    environment's settings; ``"bugsink"`` from Bugsink; ``"file"`` reuses the export already
    there; ``"none"`` pulls nothing; ``"auto"``: see :func:`resolve_source`. Returns ``None``
    when nothing was pulled (``file`` and ``none``).

    The options take a notebook's literals: ``limit`` ``-1`` = the default (``SENTRY_ERROR_LIMIT``
    for Sentry, every issue for Bugsink and the sample), ``0`` = every issue; ``projects``
    ``[]`` = ``SENTRY_PROJECT``; ``since`` (ISO-8601, Sentry only) ``""`` = the last
    ``stats_period`` instead.
    """
    from selfheal.sources.sentry_pull import SentryQuery, pull_sentry  # I/O stage, imported on use

    out = in_project(out_dir, environ)
    if source == "auto":
        source = load_config(project_root(environ=environ)).source
    source = resolve_source(source, environ, out_dir=out)
    if source == "sample":
        return pull_sample(out, limit=_wanted(limit, None), progress=progress)
    if source == "sentry":
        settings = SentrySettings.from_env(environ)
        query = SentryQuery.from_options(
            settings,
            limit=_wanted(limit, settings.limit),
            projects=projects,
            stats_period=stats_period,
            since=since,
        )
        report = pull_sentry(settings, query, out=out, progress=progress)
        chosen = ",".join(query.projects) or "all projects"
        record_pull(report.path, "sentry", f"{settings.org}/{chosen}")
        return report
    if source == "bugsink":
        from selfheal.settings import BugsinkSettings
        from selfheal.sources.bugsink import BugsinkQuery, pull_bugsink

        bugsink = BugsinkSettings.from_env(environ)
        wanted = BugsinkQuery(limit=_wanted(limit, None))
        report = pull_bugsink(bugsink, wanted, out=out, progress=progress)
        record_pull(report.path, "bugsink", f"project {bugsink.project}")
        return report
    if source == "file":
        export = out / SENTRY_EXPORT
        if not export.is_file():
            raise InputError(export, "file not found; run `selfheal pull sentry` or put an export there")
        return None
    if source == "none":
        return None
    raise ConfigError("source", f"unknown source {source!r}; use auto, sample, sentry, bugsink, file or none")


def find_inputs(
    *,
    playwright: str = "auto",
    junit: str = "auto",
    config_root: str | Path | None = None,
) -> dict[str, Path]:
    """The team's own test reports for this run, found the way ``normalize playwright`` finds one.

    Each of ``playwright`` / ``junit`` is a path (relative to the project root), ``"sample"``
    (the bundled Playwright sample, only when asked for), ``""`` (none), or ``"auto"``: the
    ``playwright_report`` / ``junit_report`` of ``[tool.selfheal]`` when set, else the first
    usual location that exists (:data:`~selfheal.sources.playwright.DEFAULT_REPORT_LOCATIONS`,
    :data:`DEFAULT_JUNIT_LOCATIONS`), else none.
    """
    from selfheal.sources.playwright import DEFAULT_REPORT_LOCATIONS

    root = project_root() if config_root is None else in_project(config_root)
    config = load_config(root)
    found: dict[str, Path] = {}
    choices = {
        "playwright": (playwright, config.playwright_report, DEFAULT_REPORT_LOCATIONS),
        "junit": (junit, config.junit_report, DEFAULT_JUNIT_LOCATIONS),
    }
    for kind, (given, configured, usual) in choices.items():
        if given == "sample":
            if kind != "playwright":
                raise ConfigError(f"{kind}_report", "there is no bundled JUnit sample; give a path or ''")
            found[kind] = sample_path("playwright-report.json")
        elif given == "auto":
            if configured:
                path = root / configured
                if not path.is_file():
                    raise InputError(path, f"file not found ([tool.selfheal] {kind}_report)")
                found[kind] = path
            else:
                first = next((root / p for p in usual if (root / p).is_file()), None)
                if first is not None:
                    found[kind] = first
        elif given:
            found[kind] = in_project(given)
    return found


def _min_frequency(explicit: int | None, config: Config, environ: Mapping[str, str]) -> int:
    """The explicit value, else ``SENTRY_ERROR_MIN_FREQUENCY``, else ``[tool.selfheal] min_frequency``."""
    if explicit is not None:
        return explicit
    from_env = min_frequency_from_env(environ)
    return config.min_frequency if from_env is None else from_env


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
        from selfheal.sources.sentry_export import load_sentry_export

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


def _previous_of(previous: str | Path | None, path: Path) -> Path | None:
    """``previous="auto"``: the tasks this output file held before (the last run's), kept aside."""
    if previous is None or previous == "":
        return None
    if str(previous) != "auto":
        return in_project(previous)
    if not path.is_file():
        return None
    kept = path.parent / "previous" / path.name
    save_tasks(kept, load_tasks(path))
    return kept


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
    original pipeline's names); a relative ``out_dir`` is under the project root. Beside it,
    ``*.sources.json`` records which data went in (sample, Sentry, Bugsink or a file) and when
    it was pulled. ``previous``: last run's PatchTasks, for new / ongoing / regressed /
    resolved; ``"auto"`` takes the output file's current content (the last run), kept as
    ``out/previous/<name>``. ``rules``: the human merge/split decisions (default: the config's
    ``rules_file`` in ``config_root``, if present).
    """
    given = {"sentry": sentry, "playwright": playwright, "junit": junit}
    chosen = [k for k, v in given.items() if v is not None]
    if not chosen:
        raise ConfigError("normalize", "give at least one input (sentry, playwright or junit)")
    config = load_config(config_root)
    env = os.environ if environ is None else environ
    tree = RepoTree.scan(config.repo_root)
    if sentry is not None and not Path(sentry).exists():
        raise InputError(sentry, "file not found; `selfheal pull sentry` (or `pull bugsink`) writes it")
    failures = read_failures(sentry=sentry, playwright=playwright, junit=junit, config=config, tree=tree)
    rules_path = Path(rules) if rules is not None else config.repo_root / config.rules_file
    if rules is not None and not rules_path.exists():
        raise InputError(rules_path, "rules file not found")
    name = OUTPUT_NAMES["merged" if len(chosen) > 1 else chosen[0]]
    path = Path(output) if output is not None else in_project(out_dir, env) / name
    previous_path = _previous_of(previous, path)
    previous_tasks = load_tasks(previous_path) if previous_path is not None else None
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
    save_tasks(path, tasks, secrets=secret_values(env))  # scrubbed at the source (issue 16)
    inputs = [_source_of(kind, Path(value)) for kind, value in given.items() if value is not None]
    write_json(
        _sources_path(path),
        {
            "written": _now(),
            "inputs": [i.to_json() for i in inputs],
            "previous": relative_to_project(previous_path) if previous_path is not None else None,
        },
    )
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


def normalize_run(
    out_dir: str | Path = "out",
    *,
    sentry_export: str = SENTRY_EXPORT,
    playwright_report: str = "auto",
    junit_report: str = "auto",
    previous_tasks: str = "auto",
    min_frequency: int = -1,
    environ: Mapping[str, str] | None = None,
) -> NormalizeSummary:
    """The weekly normalize: this run's export (when one was pulled or is there) and test reports.

    Takes the normalize notebook's literals: ``sentry_export`` (in ``out_dir``; ``""`` for
    none) is skipped when absent, since ``source = "none"`` pulls nothing; the test reports are
    found by :func:`find_inputs` (``"auto"``, a path, ``"sample"``, ``""``); ``previous_tasks``
    ``""`` is none; a negative ``min_frequency`` (``-1``) is the default
    (``SENTRY_ERROR_MIN_FREQUENCY``, else the configuration's). Writes ``out/patchtasks.json``
    whatever the inputs, with ``previous_tasks="auto"`` its last content. Raises
    :class:`~selfheal.errors.ConfigError` naming what to set when there is no input at all.
    """
    out = in_project(out_dir, environ)
    export = out / sentry_export if sentry_export else None
    found = find_inputs(playwright=playwright_report, junit=junit_report)
    if (export is None or not export.is_file()) and not found:
        raise ConfigError(
            "inputs",
            "no data for this run: set SENTRY_AUTH_TOKEN and SENTRY_ORG (or BUGSINK_*), put an export "
            f"at {relative_to_project(out / SENTRY_EXPORT)} (`selfheal pull sentry`), or a Playwright "
            "report at playwright-report/report.json ([tool.selfheal] playwright_report); "
            "`selfheal demo` shows the bundled sample",
        )
    return normalize(
        out,
        sentry=export if export is not None and export.is_file() else None,
        playwright=found.get("playwright"),
        junit=found.get("junit"),
        previous=previous_tasks or None,
        min_frequency=None if min_frequency < 0 else min_frequency,
        config_root=project_root(environ=environ),
        # One file every week, whichever inputs this week had, so the last run's tasks are
        # always this week's `previous` (a week without Sentry resolves the Sentry tasks).
        output=out / OUTPUT_NAMES["merged"],
        environ=environ,
    )


def duplicate_threshold(given: float = -1.0) -> float:
    """The analyze notebook's ``duplicate_threshold``: a similarity from 0 to 1, or a negative
    value (``-1``) for the default, :data:`selfheal.dedup.NEAR_DUPLICATE_THRESHOLD`."""
    return NEAR_DUPLICATE_THRESHOLD if given < 0 else given


def describe_pull(report: PullReport | None, source: str, out_dir: str | Path = "out") -> str:
    """The line a pull prints: what came in, or why nothing was pulled."""
    if report is not None:
        return report.summary()
    out = in_project(out_dir)
    chosen = resolve_source(load_config(project_root()).source if source == "auto" else source, out_dir=out)
    export = out / SENTRY_EXPORT
    if chosen == "file":
        return f"nothing pulled: reusing the export already there, {_source_of('sentry', export).describe()}"
    return (
        "nothing pulled: no SENTRY_AUTH_TOKEN + SENTRY_ORG (or BUGSINK_*) in the environment and no "
        f"{relative_to_project(export)}; this run reads test reports only"
    )


def load_all_tasks(out_dir: str | Path = "out") -> list[PatchTask]:
    """Every ``out/*patchtasks.json``, tasks with one fingerprint merged across files.

    A relative ``out_dir`` is under the project root (:mod:`selfheal.project`), so a notebook
    whose kernel runs in ``notebooks/`` reads the same files as the CLI.
    """
    folder = in_project(out_dir)
    files = sorted(folder.glob("*patchtasks.json"))
    if not files:
        raise InputError(
            folder,
            "no *patchtasks.json here; run `selfheal normalize` (or `selfheal run`) first",
        )
    tasks: list[PatchTask] = []
    for path in files:
        tasks += load_tasks(path)
    return merge_tasks(tasks)


#: Largest screenshot embedded in a report as a thumbnail; bigger ones are linked only.
MAX_THUMBNAIL_BYTES = 300 * 1024
_IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}
_REMOTE = re.compile(r"(?:git@|https://)(?P<host>[^/:]+)[:/](?P<repo>[^/\s]+/[^/\s]+?)(?:\.git)?/?$")


@dataclass(frozen=True, slots=True)
class FailingTest:
    """One failing test of this run, with what a reviewer needs to look at it."""

    title: str
    source: str
    projects: tuple[str, ...]
    attempts: int
    failed_attempts: int
    flaky: bool
    file: str
    line: int | None
    #: The test's file and line in the repository (GitHub), when the repository is known.
    file_url: str | None = None
    #: Project-relative path of the last failing attempt's screenshot.
    screenshot: str | None = None
    #: The screenshot as a ``data:`` URI when it exists and is at most :data:`MAX_THUMBNAIL_BYTES`.
    thumbnail: str | None = None
    #: Project-relative path of the Playwright trace beside the screenshot, when there is one.
    trace: str | None = None

    @property
    def failure_rate(self) -> float:
        return self.failed_attempts / self.attempts if self.attempts else 0.0


def repository_blob_url(environ: Mapping[str, str] | None = None) -> str | None:
    """``https://github.com/<owner>/<repo>/blob/<ref>`` for links to files, when it can be known.

    In GitHub Actions from ``GITHUB_SERVER_URL``, ``GITHUB_REPOSITORY`` and ``GITHUB_SHA``;
    elsewhere from the project's ``origin`` remote (ref ``HEAD``).
    """
    env = os.environ if environ is None else environ
    repo = env.get("GITHUB_REPOSITORY", "").strip()
    if repo:
        server = env.get("GITHUB_SERVER_URL", "").strip().rstrip("/") or "https://github.com"
        return f"{server}/{repo}/blob/{env.get('GITHUB_SHA', '').strip() or 'HEAD'}"
    git_config = project_root(environ=env) / ".git" / "config"
    if not git_config.is_file():
        return None
    text = git_config.read_text(encoding="utf-8", errors="replace")
    section = re.search(r'\[remote "origin"\](.*?)(?:\n\[|\Z)', text, re.DOTALL)
    url = re.search(r"^\s*url\s*=\s*(\S+)", section.group(1), re.MULTILINE) if section else None
    remote = _REMOTE.match(url.group(1)) if url else None
    if remote is None:
        return None
    return f"https://{remote['host']}/{remote['repo']}/blob/HEAD"


def _report_path(source: DataSource) -> Path:
    if source.origin == "sample":
        return sample_path(source.path.removeprefix("bundled "))
    return in_project(source.path)


_RETRY_SUFFIX = re.compile(r"-retry\d+$")


def _trace_near(screenshot: Path) -> Path | None:
    """The Playwright trace of the same test: in the screenshot's folder or a retry's folder
    (Playwright writes each attempt to ``test-results/<test>[-retryN]/``)."""
    folder = screenshot.parent
    base = _RETRY_SUFFIX.sub("", folder.name)
    candidates = [folder / "trace.zip"]
    if folder.parent.is_dir():
        candidates += sorted(folder.parent.glob(f"{glob_escape(base)}*/trace.zip"))
    return next((c for c in candidates if c.is_file()), None)


def _thumbnail(path: Path, max_bytes: int) -> str | None:
    kind = _IMAGE_TYPES.get(path.suffix.lower())
    if kind is None or not path.is_file() or path.stat().st_size > max_bytes:
        return None
    return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def failing_tests(
    out_dir: str | Path = "out",
    *,
    environ: Mapping[str, str] | None = None,
    max_thumbnail_bytes: int = MAX_THUMBNAIL_BYTES,
) -> list[FailingTest]:
    """The failing tests of the run's test reports (as recorded beside ``out/*patchtasks.json``).

    One entry per test, its projects (browsers) together: attempts, failed attempts, flaky
    (passed on a retry), the file and line with a repository link, the screenshot (embedded
    when small enough) and the trace beside it.
    """
    reports = [s for s in data_sources(out_dir) if s.kind in ("playwright", "junit")]
    root = project_root(environ=environ)
    config = load_config(root)
    blob = repository_blob_url(environ)
    grouped: dict[tuple[str, str], list[Failure]] = {}
    for source in reports:
        path = _report_path(source)
        if not path.is_file():
            continue
        if source.kind == "playwright":
            failures = read_failures(playwright=path, config=config)
        else:
            failures = read_failures(junit=path, config=config)
        for failure in failures:
            grouped.setdefault((failure.source, failure.item_id), []).append(failure)
    evidence = []
    for (kind, _), group in grouped.items():
        first = group[0]
        frame = next((f for f in first.frames if f.path and f.path == first.file), None)
        frame = frame or next((f for f in first.frames if f.path), None)
        file = first.file or (frame.path if frame else "")
        line = frame.lineno if frame else None
        shots = [f.screenshot for f in reversed(group) if f.screenshot]
        shot = next((s for s in shots if (root / s).is_file()), shots[0] if shots else None)
        shot_path = root / shot if shot else None
        trace = _trace_near(shot_path) if shot_path is not None else None
        evidence.append(
            FailingTest(
                title=first.title,
                source=kind,
                projects=tuple(dict.fromkeys(f.project for f in group if f.project)),
                attempts=sum(f.attempts for f in group),
                failed_attempts=sum(f.failed_attempts for f in group),
                flaky=any(f.outcome == "flaky" for f in group),
                file=file,
                line=line,
                file_url=f"{blob}/{file}" + (f"#L{line}" if line else "") if blob and file else None,
                screenshot=shot,
                thumbnail=_thumbnail(shot_path, max_thumbnail_bytes) if shot_path is not None else None,
                trace=relative_to_project(trace) if trace is not None and trace.is_file() else None,
            )
        )
    return sorted(evidence, key=lambda e: (not e.flaky, -e.failure_rate, e.title))
