"""selfheal: production errors and test failures in, reviewed draft pull requests out.

The names below are the public surface: the stage functions a notebook or script calls, in the
order of the pipeline (pull -> normalize -> analyze -> pull requests), plus the values they take
and return and the error tree. ``import selfheal`` stays cheap (``selfheal --help`` imports it):
the stage functions are re-exported lazily, so polars, httpx, PyGithub and papermill load only
when one of them is first used.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

import selfheal.startup_signals  # noqa: F401 - first: Ctrl-C while importing is one line
from selfheal.config import Config, load_config
from selfheal.errors import (
    BugsinkError,
    ConfigError,
    GitHubError,
    InputError,
    MissingEnvError,
    NotebookError,
    RemoteError,
    SelfhealError,
    SentryError,
)
from selfheal.models import Evidence, ExpectedFix, Frame, Occurrence, PatchTask
from selfheal.records import Failure

if TYPE_CHECKING:  # the same names, typed, for mypy and editors; at run time they load on first use
    from selfheal.dedup import describe_candidates, describe_rule_warnings, near_duplicates
    from selfheal.normalize import build_tasks
    from selfheal.pipeline import (
        data_sources,
        describe_data,
        describe_pull,
        failing_tests,
        load_all_tasks,
        normalize_run,
        pull,
    )
    from selfheal.project import in_project
    from selfheal.pullrequests.run import run_pr
    from selfheal.reporting.index import headline_of
    from selfheal.reporting.tables import (
        failing_tests_table,
        merged_tasks_table,
        near_duplicates_table,
        pr_previews,
        records_table,
        severity_reasons_table,
        task_table,
    )

__version__ = "0.1.0"

#: Each lazily re-exported name and the module that defines it.
_LAZY: dict[str, str] = {
    "build_tasks": "selfheal.normalize",
    "data_sources": "selfheal.pipeline",
    "describe_candidates": "selfheal.dedup",
    "describe_data": "selfheal.pipeline",
    "describe_pull": "selfheal.pipeline",
    "describe_rule_warnings": "selfheal.dedup",
    "failing_tests": "selfheal.pipeline",
    "failing_tests_table": "selfheal.reporting.tables",
    "headline_of": "selfheal.reporting.index",
    "in_project": "selfheal.project",
    "load_all_tasks": "selfheal.pipeline",
    "merged_tasks_table": "selfheal.reporting.tables",
    "near_duplicates": "selfheal.dedup",
    "near_duplicates_table": "selfheal.reporting.tables",
    "normalize_run": "selfheal.pipeline",
    "pr_previews": "selfheal.reporting.tables",
    "pull": "selfheal.pipeline",
    "records_table": "selfheal.reporting.tables",
    "run_pr": "selfheal.pullrequests.run",
    "severity_reasons_table": "selfheal.reporting.tables",
    "task_table": "selfheal.reporting.tables",
}


def __getattr__(name: str) -> object:
    """Load a lazily re-exported stage function on first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:  # not ours: lets `from selfheal import <submodule>` import the submodule
        raise AttributeError(f"module 'selfheal' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "BugsinkError",
    "Config",
    "ConfigError",
    "Evidence",
    "ExpectedFix",
    "Failure",
    "Frame",
    "GitHubError",
    "InputError",
    "MissingEnvError",
    "NotebookError",
    "Occurrence",
    "PatchTask",
    "RemoteError",
    "SelfhealError",
    "SentryError",
    "__version__",
    "build_tasks",
    "data_sources",
    "describe_candidates",
    "describe_data",
    "describe_pull",
    "describe_rule_warnings",
    "failing_tests",
    "failing_tests_table",
    "headline_of",
    "in_project",
    "load_all_tasks",
    "load_config",
    "merged_tasks_table",
    "near_duplicates",
    "near_duplicates_table",
    "normalize_run",
    "pr_previews",
    "pull",
    "records_table",
    "run_pr",
    "severity_reasons_table",
    "task_table",
]
