"""Loading, validating and saving PatchTask files against the shipped JSON Schemas."""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from selfheal.errors import InputError
from selfheal.fingerprint import failure_fingerprint
from selfheal.models import SOURCES, PatchTask
from selfheal.records import Failure
from selfheal.scrub import scrub_task
from selfheal.storage import read_json, write_json

__all__ = [
    "contract_errors",
    "load_tasks",
    "original_schema",
    "save_tasks",
    "task_schema",
    "upgrade_original",
]


@cache
def _schema(name: str) -> dict[str, Any]:
    text = resources.files("selfheal.schemas").joinpath(name).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def task_schema() -> dict[str, Any]:
    """selfheal's extended PatchTask schema."""
    return _schema("patchtask.schema.json")


def original_schema() -> dict[str, Any]:
    """The original pipeline's PatchTask schema, owner enum relaxed to any string."""
    return _schema("patchtask.original.schema.json")


@cache
def _validators() -> tuple[jsonschema.protocols.Validator, ...]:
    checker = jsonschema.Draft7Validator.FORMAT_CHECKER
    return (
        jsonschema.Draft7Validator(original_schema(), format_checker=checker),
        jsonschema.Draft7Validator(task_schema(), format_checker=checker),
    )


def contract_errors(task: dict[str, Any]) -> list[str]:
    """Every way ``task`` breaks either contract, as short strings (empty when valid)."""
    problems: list[str] = []
    for validator in _validators():
        for err in validator.iter_errors(task):
            where = "/".join(str(p) for p in err.absolute_path) or "(task)"
            problems.append(f"{where}: {err.message[:200]}")
    return problems


#: Deepest nesting accepted anywhere in a task (real tasks nest 4 levels).
MAX_TASK_DEPTH = 32


def _depth_beyond(value: Any, limit: int) -> str | None:
    """The JSON path of the first value nested deeper than ``limit``, or None (iterative)."""
    stack: list[tuple[Any, int, str]] = [(value, 0, "")]
    while stack:
        item, depth, where = stack.pop()
        if depth > limit:
            return where or "(task)"
        if isinstance(item, dict):
            stack.extend((v, depth + 1, f"{where}/{k}") for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, depth + 1, f"{where}/{i}") for i, v in enumerate(item))
    return None


def upgrade_original(task: dict[str, Any]) -> dict[str, Any]:
    """A task written by the original pipeline (valid under its schema) with the extended
    fields derived: ``source`` from the id (``playwright-…`` → playwright, else sentry),
    ``fingerprint`` the one a raw item with the task's title, type (the title's part before a
    colon) and culprit but no frames gets, empty reasons and occurrences, status new.
    Tasks that already carry the extended fields are returned unchanged."""
    if all(key in task for key in _EXTENDED_REQUIRED):
        return task
    upgraded = dict(task)
    ident = str(task.get("id", ""))
    prefix = ident.split("-", 1)[0].lower()
    source = str(task.get("source") or (prefix if prefix in SOURCES else "sentry"))
    upgraded.setdefault("source", source)
    upgraded.setdefault("sources", [source])
    if "fingerprint" not in task:
        title = str(task.get("title", ""))
        exception_type = title.split(":", 1)[0] if ":" in title else ""
        culprit = str(task.get("culprit") or "")
        # No frames and no test path: the title is the message and the culprit locates the code.
        item = Failure(
            source=source, item_id=ident, title=title, exception_type=exception_type, culprit=culprit
        )
        upgraded["fingerprint"] = failure_fingerprint(item)
    upgraded.setdefault("severityReasons", [])
    upgraded.setdefault("occurrences", [])
    upgraded.setdefault("status", "new")
    return upgraded


_EXTENDED_REQUIRED = ("source", "sources", "fingerprint", "severityReasons", "occurrences", "status")


def load_tasks(path: str | Path, *, secrets: Iterable[str] = ()) -> list[PatchTask]:
    """Read a PatchTask list, validating every task; bad files raise InputError.

    Tasks written by the original pipeline are accepted (:func:`upgrade_original`). Every
    task is scrubbed (:func:`selfheal.scrub.scrub_task`): a file written by another tool, or
    edited by hand, cannot bring raw secrets or control characters further.
    """
    data = read_json(path)
    if not isinstance(data, list):
        raise InputError(path, f"expected a JSON list of PatchTasks, found {type(data).__name__}")
    values = tuple(secrets)
    tasks: list[PatchTask] = []
    for index, raw in enumerate(data):
        if not isinstance(raw, dict):
            raise InputError(path, f"task {index} is {type(raw).__name__}, expected an object")
        item: dict[str, Any] = raw
        too_deep = _depth_beyond(item, MAX_TASK_DEPTH)
        if too_deep is not None:
            raise InputError(
                path, f"task {index} is nested more than {MAX_TASK_DEPTH} levels deep (at {too_deep[:120]})"
            )
        # A task of the original pipeline, or one carried over from it (no reasons, no
        # occurrences): held to the original contract, extended fields derived.
        upgraded = not _original_errors(item) and (
            not all(key in item for key in _EXTENDED_REQUIRED)
            or (not item.get("severityReasons") and not item.get("occurrences"))
        )
        if upgraded:
            item = upgrade_original(raw)
        problems = _original_errors(item) if upgraded else contract_errors(item)
        if problems:
            raise InputError(path, f"task {index} breaks the PatchTask contract: {problems[0]}")
        try:
            task = PatchTask.from_json(item)
        except (KeyError, ValueError, TypeError) as exc:
            raise InputError(path, f"task {index}: {exc}") from exc
        tasks.append(scrub_task(task, secrets=values)[0])
    return tasks


def _original_errors(task: dict[str, Any]) -> list[str]:
    return [err.message for err in _validators()[0].iter_errors(task)]


def save_tasks(path: str | Path, tasks: Iterable[PatchTask], *, secrets: Iterable[str] = ()) -> Path:
    """Scrub, validate and write tasks atomically; an invalid task is a bug (ValueError).

    This is where "scrub at the source" happens: every task that reaches a file in out/ has
    had each free-text field scrubbed (:func:`selfheal.scrub.scrub_task`) before it was
    serialised, so artifacts, previews, PRs, task files and reports carry redacted text.
    """
    values = tuple(secrets)
    items = [scrub_task(t, secrets=values)[0].to_json() for t in tasks]
    for item in items:
        # A task carried over from the original pipeline (no reasons, no occurrences) is held
        # to the original contract only; every task selfheal builds meets both.
        carried = not item.get("severityReasons") and not item.get("occurrences")
        problems = _original_errors(item) if carried else contract_errors(item)
        if problems:
            raise ValueError(f"task {item.get('id')} breaks the contract: {problems}")
    return write_json(path, items)
