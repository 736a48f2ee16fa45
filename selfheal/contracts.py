"""Loading, validating and saving PatchTask files against the shipped JSON Schemas."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from selfheal.errors import InputError
from selfheal.models import PatchTask
from selfheal.storage import read_json, write_json

__all__ = [
    "contract_errors",
    "load_tasks",
    "original_schema",
    "save_tasks",
    "task_schema",
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


def load_tasks(path: str | Path) -> list[PatchTask]:
    """Read a PatchTask list, validating every task; bad files raise InputError."""
    data = read_json(path)
    if not isinstance(data, list):
        raise InputError(path, f"expected a JSON list of PatchTasks, found {type(data).__name__}")
    tasks: list[PatchTask] = []
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise InputError(path, f"task {index} is {type(item).__name__}, expected an object")
        problems = contract_errors(item)
        if problems:
            raise InputError(path, f"task {index} breaks the PatchTask contract: {problems[0]}")
        try:
            tasks.append(PatchTask.from_json(item))
        except (KeyError, ValueError, TypeError) as exc:
            raise InputError(path, f"task {index}: {exc}") from exc
    return tasks


def save_tasks(path: str | Path, tasks: Iterable[PatchTask]) -> Path:
    """Validate and write tasks atomically; an invalid task is a bug, so it raises ValueError."""
    items = [t.to_json() for t in tasks]
    for item in items:
        problems = contract_errors(item)
        if problems:
            raise ValueError(f"task {item.get('id')} breaks the contract: {problems}")
    return write_json(path, items)


def dump_tasks(tasks: Sequence[PatchTask]) -> str:
    return json.dumps([t.to_json() for t in tasks], indent=2, ensure_ascii=False)
