"""Run the notebooks with papermill and publish offline HTML reports.

:func:`run_notebooks` executes ``notebooks/NN-*.ipynb`` in order in a kernel of the current
environment, writes each executed notebook and its self-contained HTML page to
``reports/<run-id>/`` (atomically, scrubbed, with no secret value in them), records the run in
``reports/<run-id>/run.json`` and rebuilds ``reports/index.html``. When a notebook fails, its
report still shows the failing cell and the error, the notebooks after it are marked skipped,
the index is still rebuilt, and :class:`~selfheal.errors.NotebookError` is raised.

Parameters come from the caller (``selfheal run --params FILE``) and are written into the
executed notebooks and the index, so :func:`check_params` refuses anything that looks like a
secret: secrets reach notebooks only through environment variables.
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any

import nbformat
import papermill
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from papermill.engines import NBClientEngine, papermill_engines
from papermill.exceptions import PapermillExecutionError
from papermill.iorw import write_ipynb

from selfheal._readers import read_bool, read_int, read_list, read_number, read_str, read_table
from selfheal.errors import ConfigError, InputError, NotebookError
from selfheal.lean_imports import KERNEL_EXEC_LINE
from selfheal.pipeline import describe_data, fresh_data_sources, load_all_tasks, repository_blob_url
from selfheal.project import in_project, project_root, relative_to_project
from selfheal.reporting.html import PageInfo, notebook_to_html, remove_secrets, scrub_notebook
from selfheal.reporting.index import (
    Headline,
    NotebookRecord,
    RunRecord,
    headline_of,
    render_index,
    top_tasks_of,
)
from selfheal.scrub import scrub_text
from selfheal.settings import secret_values
from selfheal.storage import read_json, write_json, write_text

__all__ = [
    "CurrentEnvironmentKernel",
    "RunResult",
    "check_params",
    "declared_parameters",
    "find_notebooks",
    "new_run_id",
    "rebuild_index",
    "run_notebooks",
]

#: Parameter names that suggest a secret; such values belong in environment variables.
SECRET_NAME = re.compile(
    r"token|secret|passw(or)?d|pwd|api[_-]?key|auth|credential|private[_-]?key|dsn|cookie|session",
    re.IGNORECASE,
)
#: Scrubber findings that mean "this value is a secret" (e-mail or IP addresses are not).
_SECRET_KINDS = frozenset(
    {
        "secret",
        "private-key",
        "jwt",
        "slack-webhook",
        "sentry-dsn",
        "url-credentials",
        "github-token",
        "sentry-token",
        "aws-access-key",
        "aws-secret-key",
        "slack-token",
        "bearer-token",
        "basic-auth",
        "auth-header",
        "credential",
    }
)
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_NOTEBOOK_NAME = re.compile(r"^\d\d-[\w.-]+\.ipynb$")


@dataclass(frozen=True, slots=True)
class RunResult:
    """Where a run's reports went and how each notebook fared."""

    record: RunRecord
    run_dir: Path
    index: Path

    @property
    def ok(self) -> bool:
        return self.record.ok

    @property
    def headline(self) -> Headline:
        return self.record.headline


class CurrentEnvironmentKernel(AsyncKernelManager):
    """The ipykernel of the interpreter running selfheal, whatever kernelspecs are installed.

    A ``python3`` kernelspec in the user's Jupyter folders can point at another Python without
    selfheal; the notebooks must run in this environment, so the spec is built here.
    """

    @property
    def kernel_spec(self) -> KernelSpec | None:
        if self._kernel_spec is None:
            self._kernel_spec = KernelSpec(
                # The kernel listens on 127.0.0.1 only; ipykernel's "TCP without encryption"
                # start-up warning and its shutdown chatter are noise; cell errors reach the report anyway.
                argv=[
                    sys.executable,
                    "-m",
                    "ipykernel_launcher",
                    "-f",
                    "{connection_file}",
                    "--IPKernelApp.log_level=CRITICAL",
                    # Before the first cell: skip optional imports that cost seconds (lean_imports).
                    f"--IPKernelApp.exec_lines={KERNEL_EXEC_LINE}",
                ],
                display_name="Python (selfheal)",
                language="python",
            )
        return self._kernel_spec


class _WriteOnceEngine(NBClientEngine):  # type: ignore[misc]  # untyped lib
    """papermill's nbclient engine, writing the executed notebook once rather than after every cell.

    papermill rewrites the whole notebook when each cell starts and ends (quadratic in the cells:
    about a second of a four-notebook run). papermill itself writes the finished notebook, and
    the one that stopped at a failing cell; a cell timeout or a dead kernel stops the engine
    instead, so the outputs so far are written here.
    """

    @classmethod
    def execute_notebook(
        cls, nb: nbformat.NotebookNode, kernel_name: str, output_path: str | None = None, **kwargs: Any
    ) -> nbformat.NotebookNode:
        try:
            executed: nbformat.NotebookNode = super().execute_notebook(nb, kernel_name, None, **kwargs)
        except BaseException:
            if output_path:
                write_ipynb(nb, output_path)  # papermill executes ``nb`` in place
            raise
        return executed


_ENGINE = "selfheal-write-once"
papermill_engines.register(_ENGINE, _WriteOnceEngine)


def new_run_id(now: datetime | None = None) -> str:
    """``YYYYmmdd-HHMMSS`` in UTC: sorts by time, safe as a folder name."""
    return (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")


def check_params(params: Mapping[str, Any], *, environ: Mapping[str, str] | None = None) -> None:
    """Refuse parameters that are, or look like, secrets (names or values)."""
    secrets = secret_values(environ)
    for name, value in params.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ConfigError("params", f"parameter name {name!r} is not a Python identifier")
        if SECRET_NAME.search(name):
            raise ConfigError(
                f"params.{name}",
                "looks like a secret; secrets come only from environment variables, "
                "never notebook parameters",
            )
        found = scrub_text(repr(value), secrets=secrets).counts
        if _SECRET_KINDS.intersection(found):
            raise ConfigError(
                f"params.{name}",
                "the value looks like a secret (a token or credential); "
                "pass secrets only through environment variables",
            )


def packaged_notebooks() -> Path:
    """The notebooks shipped inside the package (the same files as the repository's notebooks/)."""
    return Path(str(resources.files("selfheal").joinpath("notebooks")))


def default_notebooks_dir(cwd: str | Path = ".") -> Path:
    """``./notebooks`` when the current folder has its own, else the packaged notebooks.

    A user's repository that only installs selfheal (the weekly workflow) has no notebooks/;
    it runs the packaged ones. A folder with its own notebooks (a checkout, or a team's
    customised copy) runs those.
    """
    local = Path(cwd) / "notebooks"
    if local.is_dir() and any(_NOTEBOOK_NAME.match(p.name) for p in local.iterdir()):
        return local
    return packaged_notebooks()


def find_notebooks(notebooks_dir: str | Path) -> list[Path]:
    """The ``NN-name.ipynb`` notebooks in run order."""
    folder = Path(notebooks_dir)
    if not folder.is_dir():
        raise InputError(folder, "notebooks folder not found")
    found = sorted(p for p in folder.iterdir() if _NOTEBOOK_NAME.match(p.name))
    if not found:
        raise InputError(folder, "no NN-name.ipynb notebooks here")
    return found


def declared_parameters(notebook: str | Path) -> dict[str, dict[str, Any]]:
    """The parameters a notebook declares (name → papermill's type, default and help)."""
    try:
        found: dict[str, dict[str, Any]] = papermill.inspect_notebook(str(notebook))
    except Exception as exc:  # papermill raises bare exceptions for unreadable notebooks
        raise InputError(notebook, f"cannot read notebook parameters ({exc})") from exc
    return found


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _first_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _load_counts(out_dir: Path, since: float) -> tuple[Headline, tuple[dict[str, Any], ...]] | None:
    """Headline and top tasks of the tasks this run wrote; ``None`` when it wrote none."""
    fresh = [p for p in out_dir.glob("*patchtasks.json") if p.stat().st_mtime >= since]
    if not fresh:
        return None  # nothing normalized in this run (a failure before normalize): never last week's file
    try:
        tasks = load_all_tasks(out_dir)
    except InputError:
        return None
    blob = repository_blob_url()
    return headline_of(tasks), top_tasks_of(tasks, _pr_urls(out_dir, since), blob_url=blob)


def _pr_urls(out_dir: Path, since: float) -> dict[str, str]:
    """fingerprint → pull request URL from this run's ``out/pr_plan.json``, if it has one."""
    plan = out_dir / "pr_plan.json"
    if not plan.is_file() or plan.stat().st_mtime < since:
        return {}
    try:
        data = read_json(plan, max_bytes=16 * 1024 * 1024)
    except InputError:
        return {}
    decisions = data.get("decisions", []) if isinstance(data, dict) else []
    return {
        str(d["fingerprint"]): str(d["prUrl"])
        for d in decisions
        if isinstance(d, dict) and d.get("fingerprint") and d.get("prUrl")
    }


def _load_record(path: Path) -> RunRecord | None:
    try:
        return RunRecord.from_json(read_json(path, max_bytes=4 * 1024 * 1024))
    except (InputError, KeyError, TypeError, ValueError):
        return None  # a damaged record hides one run from the index, never blocks the others


#: The machine-readable history beside the index: every run's record, oldest first.
HISTORY_NAME = "history.json"
#: Most runs the history keeps (about four years of weekly runs).
MAX_HISTORY = 200


def _load_history(path: Path) -> list[RunRecord]:
    if not path.is_file():
        return []
    try:
        data = read_json(path, max_bytes=16 * 1024 * 1024)
    except InputError:
        return []  # a damaged history loses the trend, never the run
    runs = data.get("runs", []) if isinstance(data, dict) else []
    found = []
    for item in runs:
        try:
            found.append(RunRecord.from_json(item))
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
    return found


def rebuild_index(reports_dir: str | Path) -> Path:
    """(Re)write ``reports/index.html`` and ``reports/history.json``.

    The runs are every ``reports/*/run.json`` plus the runs ``history.json`` remembers (a CI
    job restores it from the previous run, whose folders are gone); a run folder's record wins.
    """
    folder = Path(reports_dir)
    by_id = {r.run_id: r for r in _load_history(folder / HISTORY_NAME)}
    kept = set()
    for path in sorted(folder.glob("*/run.json")):
        if (record := _load_record(path)) is not None:
            by_id[record.run_id] = record
            kept.add(record.run_id)
    records = sorted(by_id.values(), key=lambda r: (r.started, r.run_id))[-MAX_HISTORY:]
    write_json(folder / HISTORY_NAME, {"version": 1, "runs": [r.to_json() for r in records]})
    return write_text(folder / "index.html", render_index(records, kept=kept))


def _params_for(declared: Mapping[str, Any], params: Mapping[str, Any], out_dir: Path) -> dict[str, Any]:
    chosen = {k: v for k, v in params.items() if k in declared}
    if "out_dir" in declared:
        chosen["out_dir"] = str(out_dir)
    return chosen


def _execute(
    notebook: Path,
    output: Path,
    parameters: Mapping[str, Any],
    *,
    cwd: Path,
    cell_timeout: int,
) -> tuple[int | None, str] | None:
    """Run one notebook; ``None`` when it passed, else ``(cell, error)``."""
    try:
        papermill.execute_notebook(
            str(notebook),
            str(output),
            parameters=dict(parameters),
            cwd=str(cwd),
            progress_bar=False,
            engine_name=_ENGINE,
            execution_timeout=cell_timeout,
            kernel_manager_class=CurrentEnvironmentKernel,
        )
    except PapermillExecutionError as exc:
        return exc.exec_count, f"{exc.ename}: {exc.evalue}"
    except Exception as exc:  # kernel died, timed out, failed to start: papermill/nbclient errors
        return None, f"{type(exc).__name__}: {exc}"
    return None


#: papermill's type name of a notebook parameter -> the reader that checks a value of that type.
_PARAM_READERS: dict[str, Callable[[object, str], object]] = {
    "int": partial(read_int, minimum=None),
    "float": partial(read_number, minimum=None),
    "str": partial(read_str, empty=True),
    "bool": read_bool,
    "list": read_list,
    "dict": read_table,
}


def check_param_types(given: Mapping[str, Any], declared: Mapping[Path, Mapping[str, Any]]) -> None:
    """Refuse, before any notebook runs, a value whose type differs from the one the notebooks
    declare (papermill's ``inspect_notebook``), with the readers of :mod:`selfheal._readers`:
    ``limit = "ten"`` names ``params.limit``."""
    for name, value in given.items():
        for notebook, parameters in declared.items():
            wanted = str((parameters.get(name) or {}).get("inferred_type_name") or "")
            reader = _PARAM_READERS.get(wanted)
            if reader is None:
                continue  # undeclared type (None default, annotations papermill cannot name)
            try:
                reader(value, f"params.{name}")
            except ConfigError as exc:
                declares = f"{Path(notebook).name} declares it as {wanted}"
                raise ConfigError(exc.setting, f"{exc.problem} ({declares})") from None


def run_notebooks(
    notebooks_dir: str | Path | None = None,
    reports_dir: str | Path = "reports",
    *,
    params: Mapping[str, Any] | None = None,
    run_id: str | None = None,
    out_dir: str | Path = "out",
    cwd: str | Path | None = None,
    cell_timeout: int = 600,
    progress: Callable[[str], None] | None = None,
) -> RunResult:
    """Execute the notebooks in order into ``reports/<run-id>/`` and rebuild the index.

    ``params`` go to every notebook that declares them (``out_dir`` always does); a name no
    notebook declares is refused, as is anything secret-like. Raises
    :class:`~selfheal.errors.NotebookError` after writing the reports when a notebook fails.
    """
    given = dict(params or {})
    check_params(given)
    if "out_dir" in given:
        raise ConfigError("params.out_dir", "set the output folder with --out (out_dir=), not a parameter")
    run_id = run_id or new_run_id()
    if not _RUN_ID.match(run_id):
        raise ConfigError("run-id", f"{run_id!r}: use letters, digits, '.', '_' or '-' (at most 64)")
    notebooks = find_notebooks(notebooks_dir if notebooks_dir is not None else default_notebooks_dir())
    declared = {nb: declared_parameters(nb) for nb in notebooks}
    known = {name for names in declared.values() for name in names}
    unknown = sorted(set(given) - known)
    if unknown:
        raise ConfigError(
            "params", f"no notebook takes {', '.join(unknown)}; parameters: {', '.join(sorted(known))}"
        )
    check_param_types(given, declared)
    reports = in_project(reports_dir)
    run_dir = reports / run_id
    out = Path(out_dir)
    workdir = Path(cwd) if cwd is not None else project_root()
    # The kernels run in ``workdir`` and resolve a relative out_dir from its project root.
    out_abs = out if out.is_absolute() else project_root(workdir) / out
    secrets = secret_values()
    say = progress or (lambda _message: None)

    started = _now()
    started_clock = time.time() - 1  # file times can be coarser than the clock
    records: list[NotebookRecord] = []
    executed_pages: list[tuple[str, nbformat.NotebookNode, tuple[int | None, str] | None, str]] = []
    failure: NotebookRecord | None = None
    with tempfile.TemporaryDirectory(prefix="selfheal-run-") as scratch:
        for notebook in notebooks:
            name = notebook.stem
            if failure is not None:
                records.append(NotebookRecord(name=name, status="skipped"))
                continue
            say(f"running {notebook.name}")
            executed = Path(scratch) / notebook.name
            clock = time.monotonic()
            outcome = _execute(
                notebook,
                executed,
                _params_for(declared[notebook], given, out),
                cwd=workdir,
                cell_timeout=cell_timeout,
            )
            seconds = time.monotonic() - clock
            source = executed if executed.exists() else notebook
            raw = nbformat.read(str(source), as_version=4)  # type: ignore[no-untyped-call]  # untyped lib
            nb = scrub_notebook(raw, secrets)
            cell, error = outcome if outcome is not None else (None, "")
            error = _first_line(remove_secrets(scrub_text(error, secrets=secrets).text, secrets))
            text = nbformat.writes(nb)  # type: ignore[no-untyped-call]  # untyped lib
            write_text(run_dir / f"{name}.ipynb", remove_secrets(text, secrets))
            executed_pages.append((name, nb, outcome, error))
            done = NotebookRecord(
                name=name,
                status="ok" if outcome is None else "failed",
                html=f"{name}.html",
                ipynb=f"{name}.ipynb",
                cell=cell,
                error=error,
                seconds=seconds,
            )
            records.append(done)
            if outcome is not None:
                failure = done
                say(f"{notebook.name} failed: {error}")

    # Which data this run showed: known once the run is over, said on every page.
    data = fresh_data_sources(out_abs, started_clock)
    data_line = describe_data(data)
    for name, nb, outcome, error in executed_pages:
        cell = outcome[0] if outcome is not None else None
        page = PageInfo(
            run_id=run_id, notebook=name, failed=outcome is not None, cell=cell, error=error, data=data_line
        )
        write_text(run_dir / f"{name}.html", remove_secrets(notebook_to_html(nb, page), secrets))

    run_params = {**given, "out_dir": relative_to_project(out_abs)}
    counts = _load_counts(out_abs, started_clock)
    record = RunRecord(
        run_id=run_id,
        started=started,
        finished=_now(),
        params=run_params,
        notebooks=tuple(records),
        headline=counts[0] if counts is not None else Headline(),
        data=tuple(d.to_json() for d in data),
        top_tasks=counts[1] if counts is not None else (),
        counted=counts is not None,
    )
    write_json(run_dir / "run.json", record.to_json())
    index = rebuild_index(reports)
    if failure is not None:
        raise NotebookError(
            failure.name,
            f"{failure.error} (report: {run_dir / (failure.html or '')})",
            cell=failure.cell,
        )
    return RunResult(record=record, run_dir=run_dir, index=index)
