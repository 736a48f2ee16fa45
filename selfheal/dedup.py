"""Clusters: which raw items are one bug, with the human decisions that override the machine.

The rules file (``selfheal-rules.toml`` by default, reviewable in git)::

    # These fingerprints are one bug (the first one names the task).
    [[merge]]
    fingerprints = ["3f2a9c0d1e2b4a56", "77aa01c3d9e8f001"]
    note = "same NPE, different callers"

    # Never put these in one task, whatever the fingerprints or merge rules say.
    [[never_merge]]
    fingerprints = ["3f2a9c0d1e2b4a56", "5b5b5b5b5b5b5b5b"]

    # Take these raw items out of their cluster: each becomes its own task.
    [[split]]
    items = ["sentry:4242", "playwright:abc123-def456:chromium"]
"""

from __future__ import annotations

import difflib
import hashlib
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import polars as pl

from selfheal.errors import InputError
from selfheal.fingerprint import normalize_message
from selfheal.models import PatchTask
from selfheal.storage import read_text

__all__ = ["MergeRules", "apply_rules", "load_rules", "near_duplicates"]

NEAR_DUPLICATE_SCHEMA = {
    "a": pl.String,
    "b": pl.String,
    "title_a": pl.String,
    "title_b": pl.String,
    "score": pl.Float64,
    "same_type": pl.Boolean,
    "same_file": pl.Boolean,
    "suggestion": pl.String,
}


@dataclass(frozen=True, slots=True)
class MergeRules:
    merge: tuple[tuple[str, ...], ...] = ()
    never_merge: tuple[frozenset[str], ...] = ()
    split: frozenset[str] = frozenset()

    def forbids(self, a: str, b: str) -> bool:
        return any(a in group and b in group for group in self.never_merge)


def _fingerprint_list(value: object, path: str | Path, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) < 2 or not all(isinstance(v, str) and v for v in value):
        raise InputError(path, f"{where}: 'fingerprints' must list at least two fingerprints")
    return tuple(value)


def load_rules(path: str | Path) -> MergeRules:
    """Read the rules file; a missing file means no rules."""
    p = Path(path)
    if not p.exists():
        return MergeRules()
    try:
        data = tomllib.loads(read_text(p, max_bytes=5_000_000))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(p, f"invalid TOML: {exc}") from exc
    merge = tuple(
        _fingerprint_list(entry.get("fingerprints") if isinstance(entry, dict) else None, p, f"merge[{i}]")
        for i, entry in enumerate(data.get("merge", []))
    )
    never = tuple(
        frozenset(
            _fingerprint_list(
                entry.get("fingerprints") if isinstance(entry, dict) else None,
                p,
                f"never_merge[{i}]",
            )
        )
        for i, entry in enumerate(data.get("never_merge", []))
    )
    split: set[str] = set()
    for i, entry in enumerate(data.get("split", [])):
        items = entry.get("items") if isinstance(entry, dict) else None
        if not isinstance(items, list) or not all(isinstance(v, str) and ":" in v for v in items):
            raise InputError(p, f"split[{i}]: 'items' must list raw item keys like 'sentry:1234'")
        split.update(items)
    return MergeRules(merge=merge, never_merge=never, split=frozenset(split))


def apply_rules(assignment: Mapping[str, str], rules: MergeRules) -> dict[str, str]:
    """Map raw item key → cluster fingerprint, after split, merge and never-merge decisions."""
    out: dict[str, str] = {}
    for key, fingerprint in assignment.items():
        if key in rules.split:
            out[key] = hashlib.sha256(f"{fingerprint}\x1f{key}".encode()).hexdigest()[:16]
        else:
            out[key] = fingerprint
    canonical: dict[str, str] = {}
    for group in rules.merge:
        head = canonical.get(group[0], group[0])
        members = [head]
        for fp in group[1:]:
            if any(rules.forbids(fp, m) for m in members):
                continue  # a person said never: that wins over a merge rule
            canonical[fp] = head
            members.append(fp)
    return {key: canonical.get(fp, fp) for key, fp in out.items()}


_TESTS = frozenset({"playwright", "junit"})


def _signature(task: PatchTask) -> str:
    return f"{task.exception_type}: {task.evidence.message or task.title}"[:600]


def _name(task: PatchTask) -> str:
    """What the task is called: a test's title path, or the error's title."""
    return task.title.split(" — ", 1)[0] if set(task.sources) <= _TESTS else task.title


def _ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def near_duplicates(
    tasks: Sequence[PatchTask], *, threshold: float = 0.6, limit: int = 200, max_tasks: int = 2000
) -> pl.DataFrame:
    """Pairs of tasks that look alike (a merge candidate) with a 0–1 similarity score.

    Only the ``max_tasks`` most frequent tasks are considered, and only pairs that share an
    exception type or a first suggested file are scored (two unrelated errors are never
    merge candidates anyway).
    """
    tasks = sorted(tasks, key=lambda t: -t.frequency)[:max_tasks]
    sigs = [normalize_message(_signature(t)) for t in tasks]
    names = [normalize_message(_name(t)) for t in tasks]
    # Blocking: only tasks that share an exception type or a first suggested file are compared,
    # so the cost grows with the size of those groups, not with the square of all tasks.
    buckets: dict[str, list[int]] = {}
    for index, task in enumerate(tasks):
        keys = [f"type:{task.exception_type}"] if task.exception_type else []
        keys += [f"file:{f}" for f in task.expected_fix.files_hint[:1]]
        for key in keys or [f"title:{sigs[index][:24]}"]:
            buckets.setdefault(key, []).append(index)
    pairs = sorted({pair for members in buckets.values() for pair in combinations(members, 2)})
    rows = []
    for i, j in pairs:
        a, b = tasks[i], tasks[j]
        same_type = bool(a.exception_type) and a.exception_type == b.exception_type
        files_a, files_b = set(a.expected_fix.files_hint[:1]), set(b.expected_fix.files_hint[:1])
        same_file = bool(files_a & files_b)
        # The error text says how alike the failures are; the names say whether they happen in
        # the same place. Two different tests failing with the same matcher are usually two
        # bugs, so for test pairs the name weighs more.
        name_weight = 0.7 if set(a.sources) | set(b.sources) <= _TESTS else 0.4
        alike = _ratio(sigs[i], sigs[j]) * (1 - name_weight + name_weight * _ratio(names[i], names[j]))
        score = round(min(1.0, alike + 0.05 * same_type + 0.05 * same_file), 3)
        if score < threshold:
            continue
        suggestion = "likely the same bug: consider [[merge]]" if score >= 0.85 else "similar: review"
        rows.append(
            {
                "a": a.fingerprint,
                "b": b.fingerprint,
                "title_a": a.title[:120],
                "title_b": b.title[:120],
                "score": score,
                "same_type": same_type,
                "same_file": same_file,
                "suggestion": suggestion,
            }
        )
    frame = pl.DataFrame(rows, schema=NEAR_DUPLICATE_SCHEMA)
    return frame.sort("score", descending=True).head(limit)


def rule_snippet(pairs: Iterable[tuple[str, str]]) -> str:
    """TOML a person can paste into the rules file to merge the given pairs."""
    blocks = [f'[[merge]]\nfingerprints = ["{a}", "{b}"]\nnote = ""\n' for a, b in pairs]
    return "\n".join(blocks)
