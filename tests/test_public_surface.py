"""Issue 15: `selfheal` re-exports the stage functions notebooks call; the list is pinned here."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import selfheal

#: The public surface. Adding or removing a name is an API change: update this list on purpose.
PUBLIC = [
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

#: Where each stage function lives; the re-export is that very object, not a wrapper.
HOMES = {
    "build_tasks": "selfheal.normalize",
    "describe_candidates": "selfheal.dedup",
    "describe_rule_warnings": "selfheal.dedup",
    "near_duplicates": "selfheal.dedup",
    "load_all_tasks": "selfheal.pipeline",
    "normalize_run": "selfheal.pipeline",
    "pull": "selfheal.pipeline",
    "run_pr": "selfheal.pullrequests.run",
    "headline_of": "selfheal.reporting.index",
    "task_table": "selfheal.reporting.tables",
    "in_project": "selfheal.project",
}


def test_all_is_sorted_and_pinned() -> None:
    assert selfheal.__all__ == sorted(selfheal.__all__)
    assert selfheal.__all__ == PUBLIC


def test_every_public_name_resolves_to_the_object_of_its_home_module() -> None:
    for name in PUBLIC:
        assert getattr(selfheal, name) is not None, name
    for name, home in HOMES.items():
        assert getattr(selfheal, name) is getattr(importlib.import_module(home), name), name
    assert set(PUBLIC) <= set(dir(selfheal))


def test_submodules_still_import_and_unknown_names_are_attribute_errors() -> None:
    from selfheal import charts, pipeline, storage

    assert pipeline.pull is selfheal.pull
    assert callable(charts.tasks_frame)
    assert callable(storage.read_json)
    with pytest.raises(AttributeError, match="no_such_stage"):
        selfheal.no_such_stage  # noqa: B018  # the attribute access is what is tested


def test_import_selfheal_loads_no_heavy_module() -> None:
    """`selfheal --help` imports the package: the re-exports load only when first used."""
    heavy = ("httpx", "polars", "jsonschema", "github", "papermill", "nbconvert", "altair", "stamina")
    probe = f"import sys, selfheal\nprint(sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r})))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"
    probe = "import sys, selfheal\nselfheal.near_duplicates\nprint('polars' in sys.modules)"
    used = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert used.stdout.strip() == "True", "the probe above can fail: first use does load"
