"""Triage benchmark: does selfheal make one task per real bug, and point at the file to fix?

    python bench/triage.py                 # the committed corpus and the bundled samples
    python bench/triage.py --corpus DIR    # any corpus of the same layout
    python bench/triage.py --json --no-fail

A corpus directory holds ``data/sentry_errors.json`` (a ``[{issue, latestEvent}]`` export),
``data/playwright-report.json`` (a Playwright JSON report), ``app/`` (the application's
checkout, for ``--config-root``) and ``truth.toml``, the hand-made ground truth::

    [bugs.<bug id>]
    description = "what is wrong"
    fix_file = "backend/shop/pricing.py"   # repository path where the fix belongs (optional)
    items = ["sentry:4123", "playwright:<spec id>:<project>"]   # raw item keys (Failure.key)

It runs selfheal's real pipeline (``selfheal.pipeline.normalize`` on the Sentry export and the
Playwright report, once without a checkout and once with ``config_root`` = ``app/``) and
``selfheal.dedup.near_duplicates`` on the tasks, and prints the six measures of issue 11 with
their goals. Exit status 1 when a goal is missed (``--no-fail``: always 0), 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import tomllib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

from selfheal.config import Config
from selfheal.contracts import load_tasks
from selfheal.dedup import near_duplicates
from selfheal.errors import SelfhealError
from selfheal.models import PatchTask
from selfheal.pipeline import normalize, read_failures, sample_path

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE / "corpus"
SAMPLE_TRUTH = HERE / "corpus" / "sample-truth.toml"
TEST_SOURCES = frozenset({"playwright", "junit"})
ERROR_SOURCES = frozenset({"sentry", "bugsink"})


class TruthError(Exception):
    """The ground truth file is malformed or does not match the raw items."""


@dataclass(frozen=True, slots=True)
class Bug:
    id: str
    description: str
    fix_file: str | None
    items: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Truth:
    bugs: tuple[Bug, ...]

    @property
    def bug_of(self) -> dict[str, str]:
        return {item: bug.id for bug in self.bugs for item in bug.items}


def _read_truth_data(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:  # TOMLDecodeError is a ValueError
        raise TruthError(f"{path}: {exc}") from exc
    if not isinstance(data, dict):
        raise TruthError(f"{path}: expected a table/object with 'bugs'")
    return data


def load_truth(path: Path) -> Truth:
    """``truth.toml`` or ``truth.json``: ``bugs.<id>`` with ``description``, ``fix_file`` and
    ``items`` (raw item keys), and/or a top-level ``items`` table of raw item key → bug id."""
    data = _read_truth_data(path)
    entries = data.get("bugs") or {}
    mapping = data.get("items") or {}
    if not isinstance(entries, dict) or not isinstance(mapping, dict):
        raise TruthError(f"{path}: 'bugs' and 'items' must be tables")
    members: dict[str, list[str]] = {}
    seen: dict[str, str] = {}

    def add(item: object, bug_id: str) -> None:
        if not isinstance(item, str) or ":" not in item:
            raise TruthError(f"{path}: bugs.{bug_id}: items must be raw item keys like 'sentry:1234'")
        if item in seen and seen[item] != bug_id:
            raise TruthError(f"{path}: {item} is in both bugs.{seen[item]} and bugs.{bug_id}")
        if item not in seen:
            seen[item] = bug_id
            members.setdefault(bug_id, []).append(item)

    for bug_id, entry in entries.items():
        items = entry.get("items", []) if isinstance(entry, dict) else None
        if not isinstance(items, list):
            raise TruthError(f"{path}: bugs.{bug_id}: 'items' must be a list of raw item keys")
        for item in items:
            add(item, str(bug_id))
    for item, bug_id in mapping.items():
        add(item, str(bug_id))
    bugs: list[Bug] = []
    for bug_id in dict.fromkeys([*map(str, entries), *members]):
        entry = entries.get(bug_id) or {}
        if bug_id not in members:
            raise TruthError(f"{path}: bugs.{bug_id} has no items")
        fix_file = entry.get("fix_file") if isinstance(entry, dict) else None
        description = str(entry.get("description", "")) if isinstance(entry, dict) else ""
        bugs.append(Bug(bug_id, description, str(fix_file) if fix_file else None, tuple(members[bug_id])))
    if not bugs:
        raise TruthError(f"{path}: no bugs (a [bugs.<id>] table with items, or an [items] table)")
    return Truth(tuple(bugs))


# --- the measures (pure) ------------------------------------------------------------------


def item_key(source: str, item_id: str, project: str | None) -> str:
    """The raw item key, as ``selfheal.records.Failure.key`` spells it."""
    tested = source in TEST_SOURCES and project
    return f"{source}:{item_id}" + (f":{project}" if tested else "")


def task_items(task: PatchTask) -> frozenset[str]:
    return frozenset(item_key(o.source, o.id, o.project) for o in task.occurrences)


def _pairs(groups: Mapping[str, str]) -> set[frozenset[str]]:
    members: dict[str, list[str]] = {}
    for item, group in groups.items():
        members.setdefault(group, []).append(item)
    return {frozenset(p) for items in members.values() for p in combinations(sorted(items), 2)}


def pairwise(task_of: Mapping[str, str], bug_of: Mapping[str, str]) -> tuple[float, float, int, int]:
    """(precision, recall, pairs in one task, pairs of one bug) over the items of ``bug_of``.

    Items in no task (below the minimum frequency) are alone. No pair at all counts as 1.0.
    """
    tasks = {item: task_of.get(item, f"\x00alone:{item}") for item in bug_of}
    together, same_bug = _pairs(tasks), _pairs(dict(bug_of))
    hits = len(together & same_bug)
    precision = hits / len(together) if together else 1.0
    recall = hits / len(same_bug) if same_bug else 1.0
    return precision, recall, len(together), len(same_bug)


def _source_of(item: str) -> str:
    return item.split(":", 1)[0]


def main_task(bug: Bug, tasks: Sequence[frozenset[str]]) -> int | None:
    """Index of the task holding most of the bug's items (first such task on ties)."""
    counts = Counter(i for i, items in enumerate(tasks) for item in bug.items if item in items)
    if not counts:
        return None
    best = max(counts.values())
    return min(i for i, n in counts.items() if n == best)


def cross_source(truth: Truth, tasks: Sequence[frozenset[str]]) -> tuple[int, int]:
    """(linked, total): bugs with items from Sentry and from tests, and how many of those have
    an error item and a test item in one task."""
    linked = total = 0
    for bug in truth.bugs:
        sources = {_source_of(i) for i in bug.items}
        if not (sources & ERROR_SOURCES and sources & TEST_SOURCES):
            continue
        total += 1
        linked += any(
            any(_source_of(i) in ERROR_SOURCES for i in items & set(bug.items))
            and any(_source_of(i) in TEST_SOURCES for i in items & set(bug.items))
            for items in tasks
        )
    return linked, total


def same_file(hint: str | None, fix_file: str, *, checkout: bool) -> bool:
    """With a checkout the hint must be the repository path itself; without one, the data's own
    path (``shop/pricing.py`` for ``backend/shop/pricing.py``) is the best anyone can say, so a
    trailing part of the repository path counts."""
    if not hint:
        return False
    return hint == fix_file or (not checkout and fix_file.endswith("/" + hint.lstrip("/")))


def first_file(
    truth: Truth, tasks: Sequence[PatchTask], *, checkout: bool = True
) -> tuple[int, int, list[dict[str, str | None]]]:
    """(hits, bugs with a fix_file, per-bug details): the main task's first file hint."""
    items = [task_items(t) for t in tasks]
    hits = total = 0
    details: list[dict[str, str | None]] = []
    for bug in truth.bugs:
        if bug.fix_file is None:
            continue
        total += 1
        index = main_task(bug, items)
        hints = tasks[index].expected_fix.files_hint if index is not None else ()
        got = hints[0] if hints else None
        hit = same_file(got, bug.fix_file, checkout=checkout)
        hits += hit
        details.append({"bug": bug.id, "expected": bug.fix_file, "got": got, "hit": "yes" if hit else "no"})
    return hits, total, details


def apart_pairs(truth: Truth, tasks: Sequence[PatchTask]) -> set[frozenset[str]]:
    """Pairs of distinct tasks (by fingerprint) that both hold items of one bug."""
    pairs: set[frozenset[str]] = set()
    for bug in truth.bugs:
        holders = sorted({t.fingerprint for t in tasks if task_items(t) & set(bug.items)})
        pairs |= {frozenset(p) for p in combinations(holders, 2)}
    return pairs


def offered(pairs: set[frozenset[str]], candidates: Sequence[tuple[str, str]]) -> int:
    shown = {frozenset(c) for c in candidates}
    return len(pairs & shown)


# --- running selfheal ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Inputs:
    name: str
    sentry: Path
    playwright: Path
    truth: Truth
    checkout: Path | None


def run_pipeline(inputs: Inputs, config_root: Path, out: Path) -> list[PatchTask]:
    summary = normalize(
        out,
        sentry=inputs.sentry,
        playwright=inputs.playwright,
        config_root=config_root,
        environ={},
    )
    return load_tasks(summary.path)


def raw_item_keys(inputs: Inputs) -> list[str]:
    failures = read_failures(sentry=inputs.sentry, playwright=inputs.playwright, config=Config())
    return [f.key for f in failures]


def check_truth(inputs: Inputs) -> list[str]:
    """Problems: raw items without a bug, truth items that are not raw items."""
    keys = raw_item_keys(inputs)
    bug_of = inputs.truth.bug_of
    problems = [f"raw item {k} is in no bug of the truth" for k in keys if k not in bug_of]
    problems += [f"truth item {k} is not a raw item of the data" for k in bug_of if k not in set(keys)]
    return problems


def measure_run(truth: Truth, tasks: list[PatchTask], *, checkout: bool) -> dict[str, Any]:
    items = [task_items(t) for t in tasks]
    task_of = {item: str(i) for i, task in enumerate(items) for item in task}
    precision, recall, together, same_bug = pairwise(task_of, truth.bug_of)
    linked, both = cross_source(truth, items)
    hits, with_file, details = first_file(truth, tasks, checkout=checkout)
    exact_hits = first_file(truth, tasks, checkout=True)[0]
    apart = apart_pairs(truth, tasks)
    frame = near_duplicates(tasks)
    candidates = list(zip(frame["a"].to_list(), frame["b"].to_list(), strict=True))
    shown = offered(apart, candidates)
    return {
        "tasks": len(tasks),
        "items_in_no_task": sorted(set(truth.bug_of) - set(task_of)),
        "precision": precision,
        "recall": recall,
        "pairs_in_one_task": together,
        "pairs_of_one_bug": same_bug,
        "cross_source_linked": linked,
        "cross_source_bugs": both,
        "first_file_hits": hits,
        "first_file_bugs": with_file,
        "first_file": hits / with_file if with_file else 1.0,
        "first_file_details": details,
        "first_file_exact": exact_hits / with_file if with_file else 1.0,  # the path itself, no leniency
        "apart_pairs": len(apart),
        "apart_pairs_offered": shown,
        "candidates": len(candidates),
        "near_duplicates": shown / len(apart) if apart else 1.0,
    }


def evaluate(inputs: Inputs) -> dict[str, Any]:
    problems = check_truth(inputs)
    with tempfile.TemporaryDirectory(prefix="selfheal-triage-") as tmp:
        nowhere = Path(tmp) / "no-checkout"  # does not exist: no tree, no config, no CODEOWNERS
        without = measure_run(
            inputs.truth, run_pipeline(inputs, nowhere, Path(tmp) / "without"), checkout=False
        )
        with_checkout = None
        if inputs.checkout is not None:
            tasks = run_pipeline(inputs, inputs.checkout, Path(tmp) / "with")
            with_checkout = measure_run(inputs.truth, tasks, checkout=True)
    result: dict[str, Any] = {
        "name": inputs.name,
        "raw_items": len(inputs.truth.bug_of),
        "bugs": len(inputs.truth.bugs),
        "truth_problems": problems,
        "without_checkout": without,
        "with_checkout": with_checkout,
    }
    result["measures"] = six_measures(without, with_checkout)
    return result


# --- goals and output ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Measure:
    name: str
    value: float
    shown: str
    goal: str
    met: bool


def six_measures(without: dict[str, Any], with_checkout: dict[str, Any] | None) -> list[dict[str, Any]]:
    linked, both = without["cross_source_linked"], without["cross_source_bugs"]
    needed = -(-4 * both // 5)  # at least 4 of 5 (80 %, rounded up)
    rows = [
        Measure(
            "precision (no two different bugs in one task)",
            without["precision"],
            f"{without['precision']:.3f}",
            "1.000",
            without["precision"] >= 0.9995,
        ),
        Measure(
            "recall (items of one bug in one task)",
            without["recall"],
            f"{without['recall']:.2f}",
            ">= 0.90",
            without["recall"] >= 0.90,
        ),
        Measure(
            "bugs seen in both Sentry and Playwright that end up in one task",
            linked / both if both else 1.0,
            f"{linked} of {both}",
            f">= {needed} of {both}",
            linked >= needed,
        ),
        Measure(
            "first suggested file is where the fix belongs",
            without["first_file"],
            f"{without['first_file']:.2f} ({without['first_file_hits']}/{without['first_file_bugs']})",
            ">= 0.80",
            without["first_file"] >= 0.80,
        ),
    ]
    if with_checkout is not None:
        value = with_checkout["first_file"]
        rows.append(
            Measure(
                "... the same with --config-root pointing at the app's checkout",
                value,
                f"{value:.2f} ({with_checkout['first_file_hits']}/{with_checkout['first_file_bugs']})",
                ">= 0.80 (never worse than without)",
                value >= 0.80 and value >= without["first_file"],
            )
        )
    apart, shown = without["apart_pairs"], without["apart_pairs_offered"]
    rows.append(
        Measure("same-bug task pairs left apart that near_duplicates offers", without["near_duplicates"],
                f"{shown} of {apart}", ">= 95 %", without["near_duplicates"] >= 0.95)
    )  # fmt: skip
    return [{"name": m.name, "value": m.value, "shown": m.shown, "goal": m.goal, "met": m.met} for m in rows]


def render(result: Mapping[str, Any]) -> str:
    without, with_checkout = result["without_checkout"], result["with_checkout"]
    tasks = f"{without['tasks']} tasks" + (
        f" ({with_checkout['tasks']} with the checkout)" if with_checkout else ""
    )
    dropped = len(without["items_in_no_task"])
    skipped = f"; {dropped} raw items in no task (below the minimum frequency)" if dropped else ""
    lines = [f"{result['name']}: {result['raw_items']} raw items, {result['bugs']} bugs -> {tasks}{skipped}"]
    width = max(len(m["name"]) for m in result["measures"])
    lines.append(f"  {'measure (pairwise over raw items)':<{width}}  {'value':<14} {'goal':<36} ")
    for m in result["measures"]:
        mark = "ok" if m["met"] else "MISSED"
        lines.append(f"  {m['name']:<{width}}  {m['shown']:<14} {m['goal']:<36} {mark}")
    for label, run in (("without checkout", without), ("with checkout", with_checkout)):
        if run is None:
            continue
        lines += [
            f"  first file {label}: {d['bug']}: expected {d['expected']}, got {d['got']}"
            for d in run["first_file_details"]
            if d["hit"] == "no"
        ]
    lines += [f"  TRUTH: {problem}" for problem in result["truth_problems"]]
    return "\n".join(lines)


def _first_file(corpus: Path, names: Sequence[str]) -> Path:
    for name in names:
        for folder in (corpus / "data", corpus):
            if (folder / name).is_file():
                return folder / name
    raise TruthError(
        f"{corpus / 'data' / names[0]}: missing (a corpus holds data/sentry_errors.json, "
        "data/playwright-report.json, truth.toml and app/)"
    )


def corpus_inputs(
    corpus: Path,
    *,
    sentry: Path | None = None,
    playwright: Path | None = None,
    truth: Path | None = None,
    checkout: Path | None = None,
) -> Inputs:
    """The corpus's files (``data/`` or the top folder); explicit paths win."""
    app = checkout if checkout is not None else corpus / "app"
    return Inputs(
        name=f"corpus {corpus}",
        sentry=sentry or _first_file(corpus, ("sentry_errors.json",)),
        playwright=playwright or _first_file(corpus, ("playwright-report.json", "report.json")),
        truth=load_truth(truth or _first_file(corpus, ("truth.toml", "truth.json"))),
        checkout=app if app.is_dir() else None,
    )


def sample_inputs(truth: Path) -> Inputs:
    return Inputs(
        name="bundled samples (selfheal/data/sample)",
        sentry=sample_path("sentry_errors.json"),
        playwright=sample_path("playwright-report.json"),
        truth=load_truth(truth),
        checkout=None,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--corpus", type=Path, default=DEFAULT_CORPUS, help="corpus directory (default bench/corpus)"
    )
    parser.add_argument(
        "--sentry", type=Path, help="the corpus's Sentry export (default DIR/data/sentry_errors.json)"
    )
    parser.add_argument(
        "--playwright", type=Path, help="its Playwright JSON report (default DIR/data/playwright-report.json)"
    )
    parser.add_argument("--truth", type=Path, help="its ground truth (default DIR/truth.toml or truth.json)")
    parser.add_argument("--checkout", type=Path, help="the application's checkout (default DIR/app)")
    parser.add_argument("--no-samples", action="store_true", help="skip the bundled samples")
    parser.add_argument("--sample-truth", type=Path, default=SAMPLE_TRUTH, help="ground truth of the samples")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--no-fail", action="store_true", help="exit 0 even when a goal is missed")
    args = parser.parse_args(argv)
    try:
        targets = [
            corpus_inputs(
                args.corpus,
                sentry=args.sentry,
                playwright=args.playwright,
                truth=args.truth,
                checkout=args.checkout,
            )
        ]
        if not args.no_samples:
            targets.append(sample_inputs(args.sample_truth))
        results = [evaluate(target) for target in targets]
    except (TruthError, SelfhealError) as exc:
        print(f"triage: error: {exc}", file=sys.stderr)
        return 2
    missed = any(not m["met"] for r in results for m in r["measures"]) or any(
        r["truth_problems"] for r in results
    )
    if args.json:
        print(json.dumps({"results": results, "all_goals_met": not missed}, indent=2))
    else:
        print("\n\n".join(render(r) for r in results))
        print("\nall goals met" if not missed else "\nsome goals missed")
    return 0 if args.no_fail or not missed else 1


if __name__ == "__main__":
    raise SystemExit(main())
