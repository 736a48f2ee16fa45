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
import re
import tomllib
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from selfheal.config import load_config
from selfheal.errors import InputError
from selfheal.fingerprint import frame_site, in_app_frames, library_call, normalize_message
from selfheal.models import Frame, PatchTask
from selfheal.records import Failure
from selfheal.signatures import Mention, Signature, SignatureIndex, first_line
from selfheal.storage import read_text

__all__ = [
    "NEAR_DUPLICATE_THRESHOLD",
    "SAME_BUG_THRESHOLD",
    "ClusterPlan",
    "MergeRules",
    "apply_rules",
    "describe_candidates",
    "describe_rule_warnings",
    "diff_excerpts",
    "load_rules",
    "near_duplicates",
    "plan_clusters",
    "rule_snippet",
]

#: Similarity (0 to 1) from which :func:`near_duplicates` offers a pair as a candidate (its default).
NEAR_DUPLICATE_THRESHOLD = 0.6
#: Similarity from which a candidate is suggested as "likely the same bug: consider merging".
SAME_BUG_THRESHOLD = 0.85

NEAR_DUPLICATE_SCHEMA = {
    "a": pl.String,
    "b": pl.String,
    "title_a": pl.String,
    "title_b": pl.String,
    "score": pl.Float64,
    "same_type": pl.Boolean,
    "same_file": pl.Boolean,
    "suggestion": pl.String,
    "why": pl.String,
    "message_a": pl.String,
    "message_b": pl.String,
    "frames_a": pl.String,
    "frames_b": pl.String,
    "rule": pl.String,
}


@dataclass(frozen=True, slots=True)
class MergeRules:
    merge: tuple[tuple[str, ...], ...] = ()
    never_merge: tuple[frozenset[str], ...] = ()
    split: frozenset[str] = frozenset()
    #: The ``note`` of each merge rule (same order as ``merge``; '' when there is none).
    merge_notes: tuple[str, ...] = ()

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
    notes = tuple(
        str(entry.get("note") or "") if isinstance(entry, dict) else "" for entry in data.get("merge", [])
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
    return MergeRules(merge=merge, never_merge=never, split=frozenset(split), merge_notes=notes)


def apply_rules(assignment: Mapping[str, str], rules: MergeRules) -> dict[str, str]:
    """Map raw item key → cluster fingerprint, after split, merge and never-merge decisions."""
    out = _split(assignment, rules)
    clusters = _Clusters(out.values(), rules)
    clusters.apply_merge_rules()
    names = clusters.names()
    return {key: names[fp] for key, fp in out.items()}


def _split(assignment: Mapping[str, str], rules: MergeRules) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, fingerprint in assignment.items():
        if key in rules.split:
            out[key] = hashlib.sha256(f"{fingerprint}\x1f{key}".encode()).hexdigest()[:16]
        else:
            out[key] = fingerprint
    return out


class _Clusters:
    """Union-find over fingerprints that refuses any union a ``[[never_merge]]`` forbids.

    The task is named by the first fingerprint of the first merge rule that reached it, else
    by an error tracker's fingerprint (smallest, so the name is stable), else the smallest.
    """

    __slots__ = ("named_by_rule", "never", "parent", "reasons", "rules")

    def __init__(self, fingerprints: Iterable[str], rules: MergeRules) -> None:
        self.rules = rules
        self.parent: dict[str, str] = {fp: fp for fp in fingerprints}
        #: root → indexes of the never-merge groups that have a member in the component
        self.never: dict[str, frozenset[int]] = {}
        for index, group in enumerate(rules.never_merge):
            for fp in group:
                if fp in self.parent:
                    self.never[fp] = self.never.get(fp, frozenset()) | {index}
        self.named_by_rule: dict[str, str] = {}
        self.reasons: dict[str, list[str]] = defaultdict(list)

    def find(self, fp: str) -> str:
        root = fp
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[fp] != root:
            self.parent[fp], fp = root, self.parent[fp]
        return root

    def union(self, a: str, b: str, reason: str) -> bool:
        """Put ``b``'s component into ``a``'s; False when a never-merge rule forbids it."""
        if a not in self.parent or b not in self.parent:
            return False
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        if self.never.get(ra, frozenset()) & self.never.get(rb, frozenset()):
            return False  # a person said never: that wins over every merge
        self.parent[rb] = ra
        self.never[ra] = self.never.get(ra, frozenset()) | self.never.pop(rb, frozenset())
        if rb in self.named_by_rule and ra not in self.named_by_rule:
            self.named_by_rule[ra] = self.named_by_rule[rb]
        self.named_by_rule.pop(rb, None)
        self.reasons[ra] += self.reasons.pop(rb, [])
        if reason:
            self.reasons[ra].append(reason)
        return True

    def apply_merge_rules(self) -> None:
        for index, group in enumerate(self.rules.merge):
            present = [fp for fp in group if fp in self.parent]
            if len(present) < 2:
                continue
            note = self.rules.merge_notes[index] if index < len(self.rules.merge_notes) else ""
            reason = "merged by a [[merge]] rule in the rules file" + (f": {note}" if note else "")
            head = present[0]
            for fp in present[1:]:
                self.union(head, fp, reason)
            root = self.find(head)
            self.named_by_rule.setdefault(root, self.named_by_rule.get(root) or head)

    def components(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = defaultdict(list)
        for fp in self.parent:
            out[self.find(fp)].append(fp)
        return out

    def names(self, tracker: Collection[str] = ()) -> dict[str, str]:
        """Fingerprint → the fingerprint that names its task."""
        out: dict[str, str] = {}
        for root, members in self.components().items():
            named = self.named_by_rule.get(root)
            if named is None:
                from_trackers = [m for m in members if m in tracker]
                named = min(from_trackers or members)
            for member in members:
                out[member] = named
        return out


_TESTS = frozenset({"playwright", "junit"})
_TRACKERS = frozenset({"sentry", "bugsink"})
_SOURCE_NAMES = {"sentry": "Sentry", "bugsink": "Bugsink", "playwright": "Playwright", "junit": "JUnit"}
_ANONYMOUS = frozenset({"", "<anonymous>", "anonymous", "?", "<module>", "Object.<anonymous>"})
_ONLY_QUOTED = re.compile(r"^(?:'[^'\n]{0,200}'|\"[^\"\n]{0,200}\")$")
MAX_SHOWN = 120
#: How far up the stack the function that used to raise may be (helper, helper of a helper).
HELPER_DEPTH = 2


@dataclass(frozen=True, slots=True)
class ClusterPlan:
    """Which task each raw item belongs to, and why items were put together."""

    task_of: Mapping[str, str]
    """Raw item key → the fingerprint naming its task."""
    reasons: Mapping[str, tuple[str, ...]]
    """Task fingerprint → one sentence per merge (empty for a single raw item)."""
    members: Mapping[str, tuple[str, ...]]
    """Task fingerprint → the other cluster fingerprints merged into it."""


def plan_clusters(failures: Sequence[Failure], fingerprints: Sequence[str], rules: MergeRules) -> ClusterPlan:
    """Group raw items into tasks: fingerprints, then links, with the rules file over everything.

    1. Raw items with one fingerprint are one cluster (same exception type, normalized message
       and crash site: Sentry issues split by callers, releases or line numbers; a test in
       every project; parametrized tests whose titles differ only by numbers or ids).
    2. ``[[split]]`` items are their own task and take part in no link; ``[[merge]]`` rules
       join clusters; ``[[never_merge]]`` refuses any join, by a rule or by a link.
    3. Links: an error-tracker cluster whose crash function is the direct caller of another's
       with the same error (a release moved the failing check into a helper); a test failure
       (or another error) whose text carries an error-tracker cluster's signature.
    """
    assignment = _split({f.key: fp for f, fp in zip(failures, fingerprints, strict=True)}, rules)
    groups: dict[str, list[Failure]] = defaultdict(list)
    for failure in failures:
        groups[assignment[failure.key]].append(failure)
    clusters = _Clusters(groups, rules)
    clusters.apply_merge_rules()
    split_fingerprints = {assignment[key] for key in rules.split if key in assignment}
    linkable = {fp: group for fp, group in groups.items() if fp not in split_fingerprints}
    for a, b, reason in (*_same_line_links(linkable), *_helper_links(linkable)):
        clusters.union(a, b, reason)
    # Tests are linked to what the error-tracker clusters have become: one bug's issues from two
    # releases (or two lines) are one signature by then, not two that a text cannot tell apart.
    joined: dict[str, list[Failure]] = defaultdict(list)
    for fp, group in linkable.items():
        joined[clusters.find(fp)].extend(group)
    for a, b, reason in _mention_links(joined):
        clusters.union(a, b, reason)
    tracker = frozenset(fp for fp, group in groups.items() if any(f.source in _TRACKERS for f in group))
    names = clusters.names(tracker)
    components: dict[str, list[str]] = defaultdict(list)
    for fp, name in names.items():
        components[name].append(fp)
    reasons: dict[str, tuple[str, ...]] = {}
    members: dict[str, tuple[str, ...]] = {}
    for name, fps in components.items():
        ordered = sorted(fps, key=lambda fp: (fp != name, fp))
        own = [reason for fp in ordered for reason in _group_reasons(groups[fp])]
        reasons[name] = tuple(dict.fromkeys([*own, *clusters.reasons.get(clusters.find(name), [])]))
        members[name] = tuple(ordered[1:])
    return ClusterPlan(
        task_of={key: names[fp] for key, fp in assignment.items()}, reasons=reasons, members=members
    )


def _display_site(frame: Frame) -> str:
    where = frame.path or frame.filename or frame.module or frame.abs_path
    return f"{where}:{frame.function}" if frame.function else where


def _shown(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def _raw_first_line(failure: Failure) -> str:
    if failure.message:
        return first_line(failure.message)
    prefix = f"{failure.exception_type}: "
    return failure.title.removeprefix(prefix) if failure.exception_type else failure.title


def _group_reasons(group: Sequence[Failure]) -> list[str]:
    """Why the raw items of one fingerprint are one bug (nothing for a single item)."""
    trackers = [f for f in group if f.source in _TRACKERS]
    tests = [f for f in group if f.source in _TESTS]
    out: list[str] = []
    rep = trackers[0] if trackers else (tests[0] if tests else None)
    if rep is None:
        return out
    frames = in_app_frames(rep)
    site = _display_site(frames[0]) if frames else (rep.logger or rep.culprit or rep.file)
    what = f"crash function {site}" if frames else f"place {site}"
    if len(trackers) > 1:
        raws = list(dict.fromkeys(_raw_first_line(f) for f in trackers))
        library = library_call(rep)
        if library is not None:
            called = f"{library.module}.{library.function}" if library.module else frame_site(library)
            how = f"raised inside library code {called} (its message describes the input)"
        elif len(raws) == 1:
            how = "the same message"
        elif all(_ONLY_QUOTED.match(r) for r in raws):
            how = f"message differs only by a quoted value ({_shown(' / '.join(raws[:3]))})"
        else:
            how = f"message differs only by values such as ids and amounts ({_shown(' / '.join(raws[:2]))})"
        callers = {_display_site(fs[1]) for f in trackers if len(fs := in_app_frames(f)) > 1}
        releases = {f.release for f in trackers if f.release}
        extra = f"; reached from {len(callers)} callers" if len(callers) > 1 else ""
        extra += f"; releases {', '.join(sorted(releases))}" if len(releases) > 1 else ""
        source = _SOURCE_NAMES.get(rep.source, rep.source)
        out.append(
            f"{len(trackers)} {source} issues: same "
            f"{f'{rep.exception_type} and {what}' if rep.exception_type else what}, {how}{extra}"
        )
    if len(tests) > 1:
        titles = list(dict.fromkeys(f.title for f in tests))
        if len(titles) > 1:
            out.append(
                "parametrized test: titles differ only by numbers or ids "
                f"({_shown(' / '.join(titles[:2]))}), failing the same way"
            )
        projects = sorted({f.project for f in tests if f.project})
        if len(titles) == 1 and len(projects) > 1:
            out.append(f"the same test fails the same way in {', '.join(projects)}")
    if trackers and tests:
        source = _SOURCE_NAMES.get(trackers[0].source, trackers[0].source)
        shown = _shown(f"{trackers[0].exception_type}: {_raw_first_line(trackers[0])}")
        out.append(f"test failure shows the {source} error {shown} (same message and {what})")
    return out


def _trackers(group: Sequence[Failure]) -> list[Failure]:
    return [f for f in group if f.source in _TRACKERS]


def _helper_links(groups: Mapping[str, Sequence[Failure]]) -> Iterator[tuple[str, str, str]]:
    """Same error where one cluster's crash function directly calls the other's.

    A release that moved a failing check into a helper: before, ``apply_code`` raised; after,
    ``apply_code`` calls ``check_code``, which raises the same error. Clusters seen in one
    common release are left apart (two code paths), and only same-error buckets are compared,
    so the cost grows with the bucket sizes, not with the square of all clusters.
    """
    buckets: dict[tuple[str, str], list[str]] = defaultdict(list)
    for fp, group in groups.items():
        trackers = _trackers(group)
        if trackers and trackers[0].exception_type and in_app_frames(trackers[0]):
            rep = trackers[0]
            buckets[(rep.exception_type, normalize_message(rep.message or rep.title))].append(fp)
    for (exception_type, _), fps in buckets.items():
        if len(fps) < 2:
            continue
        crashing: dict[str, list[str]] = defaultdict(list)
        for fp in fps:
            for site in {frame_site(in_app_frames(f)[0]) for f in _trackers(groups[fp]) if in_app_frames(f)}:
                crashing[site].append(fp)
        for fp in fps:
            for failure in _trackers(groups[fp]):
                frames = in_app_frames(failure)
                if len(frames) < 2 or frames[0].function in _ANONYMOUS:
                    continue
                # The function that raised before is now the helper's caller (or one level up).
                for caller in frames[1 : 1 + HELPER_DEPTH]:
                    if caller.function in _ANONYMOUS:
                        continue
                    for other in crashing.get(frame_site(caller), []):
                        mine = {f.release for f in _trackers(groups[fp]) if f.release}
                        theirs = {f.release for f in _trackers(groups[other]) if f.release}
                        if other == fp or mine & theirs:
                            continue
                        shown = _shown(f"{exception_type}: {_raw_first_line(failure)}")
                        yield (
                            other,
                            fp,
                            f"same error {shown}: {_display_site(caller)} raised it in one release "
                            f"and calls {_display_site(frames[0])}, which raises it, in another "
                            "(the check moved into a helper)",
                        )


def _same_line_links(groups: Mapping[str, Sequence[Failure]]) -> Iterator[tuple[str, str, str]]:
    """Errors that say only a quoted name (``KeyError: 'summer'``), raised on one line of one
    function in one release: one lookup seen with different data, not two missing fields.

    Names stay apart otherwise (``'sku'`` and ``'price'`` are two fields, read on two lines).
    """
    by_line: dict[tuple[str, str, str, int], list[str]] = defaultdict(list)
    for fp, group in groups.items():
        for failure in _trackers(group):
            frames = in_app_frames(failure)
            raw = _raw_first_line(failure)
            if not frames or frames[0].lineno is None or not failure.release or not _ONLY_QUOTED.match(raw):
                continue
            key = (failure.exception_type, frame_site(frames[0]), failure.release, frames[0].lineno)
            if fp not in by_line[key]:
                by_line[key].append(fp)
    for (exception_type, _, release, lineno), fps in by_line.items():
        first = groups[fps[0]][0]
        frames = in_app_frames(first)
        for other in fps[1:]:
            shown = _shown(" / ".join(_raw_first_line(groups[fp][0]) for fp in (fps[0], other)))
            yield (
                fps[0],
                other,
                f"same {exception_type} on line {lineno} of {_display_site(frames[0])} in {release}: "
                f"the quoted key is data ({shown})",
            )


def _signatures(groups: Mapping[str, Sequence[Failure]]) -> list[Signature]:
    """One signature per cluster and distinct error it holds (type, normalized first line)."""
    out = []
    for fp, group in groups.items():
        said: dict[tuple[str, str], list[Failure]] = defaultdict(list)
        for failure in _trackers(group):
            said[(failure.exception_type, normalize_message(_raw_first_line(failure)))].append(failure)
        for (exception_type, message), trackers in said.items():
            crash = [fs[0] for f in trackers if (fs := in_app_frames(f)) and fs[0].function not in _ANONYMOUS]
            out.append(
                Signature(
                    key=fp,
                    exception_type=exception_type,
                    message=message,
                    raw_messages=frozenset(_raw_first_line(f) for f in trackers),
                    functions=frozenset(frame.function for frame in crash),
                    site=_display_site(crash[0]) if crash else "",
                    source=trackers[0].source,
                )
            )
    return out


def _mention_links(groups: Mapping[str, Sequence[Failure]]) -> Iterator[tuple[str, str, str]]:
    """A test failure (or an error) whose text carries an error-tracker cluster's signature.

    A test's own error counts when its frames name the cluster's crash function (a page error
    rethrown) or it has no frames; text shown inside it (UI text, a response body, a page
    error's message) counts by exception type and normalized message. A text carrying the
    signatures of two clusters links to the one whose crash function it names, else to none.
    """
    index = SignatureIndex(_signatures(groups))
    if not len(index):
        return
    for fp, group in groups.items():
        found: dict[str, tuple[Mention, Failure]] = {}
        seen_texts: set[str] = set()
        for failure in group:
            text = _shown_text(failure)
            if text in seen_texts:
                continue
            seen_texts.add(text)
            functions = frozenset(frame.function for frame in failure.frames if frame.function)
            for mention in index.search(text, functions):
                if mention.start == 0 and failure.source in _TRACKERS:
                    continue  # an error's own signature is its cluster
                own = mention.start == 0 and failure.source in _TESTS
                if own and not (mention.same_function or not failure.frames):
                    continue  # the test's own error, raised elsewhere: not shown, only alike
                if mention.signature.key != fp:
                    found.setdefault(mention.signature.key, (mention, failure))
        if len(found) > 1:
            strong = {key: hit for key, hit in found.items() if hit[0].same_function}
            found = strong if len(strong) == 1 else {}
        for key, (mention, failure) in found.items():
            yield key, fp, _mention_reason(mention, failure)


def _shown_text(failure: Failure) -> str:
    """What an item shows, its own error first: a test's message body and stack; an error's
    message (its own signature at the start is its cluster: only text shown inside links)."""
    head = f"{failure.exception_type}: " if failure.exception_type else ""
    if failure.source in _TRACKERS:
        return head + failure.message
    return head + failure.message + "\n" + "\n".join(failure.stack)


def _mention_reason(mention: Mention, failure: Failure) -> str:
    source = _SOURCE_NAMES.get(mention.signature.source, mention.signature.source)
    what = (
        "test failure"
        if failure.source in _TESTS
        else f"{_SOURCE_NAMES.get(failure.source, failure.source)} error"
    )
    shown = _shown(mention.text)
    same = f", with the same crash function {mention.signature.site}" if mention.same_function else ""
    where = f" (crash function {mention.signature.site})" if mention.signature.site and not same else ""
    return f"{what} {_shown(failure.title)!r} shows the {source} error {shown}{same}{where}"


def _task_signature_text(task: PatchTask) -> str:
    return f"{task.exception_type}: {task.evidence.message or task.title}"[:600]


def _name(task: PatchTask) -> str:
    """What the task is called: a test's title path, or the error's title."""
    return task.title.split(" — ", 1)[0] if set(task.sources) <= _TESTS else task.title


def _ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


#: Exception types test runners give their own failures: saying one is no production error.
_RUNNER_TYPES = frozenset({"Error", "TimeoutError", "UnexpectedPass", "AssertionError", "AssertError"})
#: Pairs compared per member of a bucket (sorted neighbourhood): keeps the search sub-quadratic.
BUCKET_WINDOW = 12
MAX_CELL_TEXT = 300


def _crash_frame(task: PatchTask) -> Frame | None:
    frames = [f for f in task.evidence.frames if f.in_app] or list(task.evidence.frames)
    named = [f for f in frames if f.function not in _ANONYMOUS]
    return named[0] if named else (frames[0] if frames else None)


def _top_frames(task: PatchTask, count: int = 3) -> str:
    frames = [f for f in task.evidence.frames if f.in_app] or list(task.evidence.frames)
    if frames:
        return "\n".join(f.describe() for f in frames[:count])
    return "\n".join(task.evidence.stack[:count]) or (task.culprit or "")


def _message_cell(task: PatchTask) -> str:
    message = task.evidence.message or task.title
    head = (
        f"{task.exception_type}: {message}" if task.exception_type and task.source in _TRACKERS else message
    )
    lines = [line.strip() for line in head.splitlines() if line.strip()][:6]
    text = "\n".join(lines)
    return text if len(text) <= MAX_CELL_TEXT else text[: MAX_CELL_TEXT - 1] + "…"


def _task_signatures(tasks: Sequence[PatchTask]) -> list[Signature]:
    out = []
    for index, task in enumerate(tasks):
        if set(task.sources) <= _TESTS and (not task.exception_type or task.exception_type in _RUNNER_TYPES):
            continue
        raw = first_line(task.evidence.message) or task.title.removeprefix(f"{task.exception_type}: ")
        crash = _crash_frame(task)
        out.append(
            Signature(
                key=str(index),
                exception_type=task.exception_type,
                message=normalize_message(raw),
                raw_messages=frozenset({raw}),
                functions=frozenset({crash.function} if crash and crash.function not in _ANONYMOUS else ()),
                site=_display_site(crash) if crash else "",
                source=task.source,
            )
        )
    return out


def _shown_texts(task: PatchTask) -> str:
    """A task's own error first, then everything it shows (message body, stack)."""
    head = f"{task.exception_type}: " if task.exception_type else ""
    return "\n".join([head + task.evidence.message, *task.evidence.stack[:40]])


def _containment_pairs(tasks: Sequence[PatchTask]) -> dict[tuple[int, int], str]:
    """Pairs where one task's text shows the other's error (any types, any sources)."""
    index = SignatureIndex(_task_signatures(tasks))
    out: dict[tuple[int, int], str] = {}
    if not len(index):
        return out
    for i, task in enumerate(tasks):
        for mention in index.search_all(_shown_texts(task)):
            j = int(mention.signature.key)
            if j == i or (mention.start == 0 and not set(task.sources) <= _TESTS):
                continue  # an error's own message is not one it shows
            pair = (min(i, j), max(i, j))
            verb = "fails with" if mention.start == 0 else "shows"
            out.setdefault(pair, f"{_name(task)[:80]!r} {verb} the error {_shown(mention.text)}")
    return out


def _bucket_pairs(tasks: Sequence[PatchTask], sigs: Sequence[str]) -> set[tuple[int, int]]:
    """Pairs that share an exception type, a first suggested file or a crash function.

    Inside a bucket, members are sorted by their normalized error text and each is compared
    with its next :data:`BUCKET_WINDOW` neighbours, so a bucket of n tasks costs n·w, not n².
    """
    buckets: dict[str, list[int]] = defaultdict(list)
    for index, task in enumerate(tasks):
        keys = [f"type:{task.exception_type}"] if task.exception_type else []
        keys += [f"file:{f}" for f in task.expected_fix.files_hint[:1]]
        crash = _crash_frame(task)
        if crash is not None and crash.function not in _ANONYMOUS:
            keys.append(f"site:{frame_site(crash)}")
        for key in keys or [f"title:{sigs[index][:24]}"]:
            buckets[key].append(index)
    pairs: set[tuple[int, int]] = set()
    for members in buckets.values():
        ordered = sorted(members, key=lambda m: sigs[m])
        for position, i in enumerate(ordered):
            for j in ordered[position + 1 : position + 1 + BUCKET_WINDOW]:
                pairs.add((min(i, j), max(i, j)))
    return pairs


def near_duplicates(
    tasks: Sequence[PatchTask],
    *,
    threshold: float = NEAR_DUPLICATE_THRESHOLD,
    limit: int = 200,
    max_tasks: int = 2000,
) -> pl.DataFrame:
    """Pairs of tasks that may be one bug, for a person to decide, most alike first.

    Scored pairs: tasks that share an exception type, a first suggested file or a crash
    function, and — across exception types and sources — tasks where one text shows the other's
    error (a test's UI text or page error showing a Sentry error). Each row carries both
    messages and top frames side by side, why the pair is offered, and a paste-ready
    ``[[merge]]`` rule. Only the ``max_tasks`` most frequent tasks are considered.
    """
    tasks = sorted(tasks, key=lambda t: (-t.frequency, t.fingerprint))[:max_tasks]
    sigs = [normalize_message(_task_signature_text(t)) for t in tasks]
    names = [normalize_message(_name(t)) for t in tasks]
    contained = _containment_pairs(tasks)
    rows = []
    for i, j in sorted(_bucket_pairs(tasks, sigs) | set(contained)):
        a, b = tasks[i], tasks[j]
        if a.fingerprint == b.fingerprint:
            continue
        same_type = bool(a.exception_type) and a.exception_type == b.exception_type
        files_a, files_b = set(a.expected_fix.files_hint[:1]), set(b.expected_fix.files_hint[:1])
        same_file = bool(files_a & files_b)
        crash_a, crash_b = _crash_frame(a), _crash_frame(b)
        same_site = (
            crash_a is not None
            and crash_b is not None
            and crash_a.function not in _ANONYMOUS
            and frame_site(crash_a) == frame_site(crash_b)
        )
        # The error text says how alike the failures are; the names say whether they happen in
        # the same place. Two different tests failing with the same matcher are usually two
        # bugs, so for test pairs the name weighs more.
        name_weight = 0.7 if set(a.sources) | set(b.sources) <= _TESTS else 0.4
        alike = _ratio(sigs[i], sigs[j]) * (1 - name_weight + name_weight * _ratio(names[i], names[j]))
        score = min(1.0, alike + 0.05 * same_type + 0.05 * same_file + 0.05 * same_site)
        why = []
        if same_site:
            # One crash function: always worth a look, whatever the messages say.
            score = max(score, 0.75 if same_type else 0.65)
        if (i, j) in contained:
            score = max(score, 0.9)
            why.append(contained[(i, j)])
        if same_site and crash_a is not None:
            why.append(f"same crash function {_display_site(crash_a)}")
        elif same_file:
            why.append(f"same first file {next(iter(files_a))}")
        if same_type:
            why.append(f"same exception type {a.exception_type}")
        # Two errors alike but raised in two known, different functions: offered, never as likely.
        apart = crash_a is not None and crash_b is not None and not same_site and (i, j) not in contained
        if apart and crash_a is not None and crash_b is not None:
            score -= 0.15
            why.append(f"but raised in {_display_site(crash_a)} and {_display_site(crash_b)}")
        score = round(max(score, 0.0), 3)
        if score < threshold:
            continue
        suggestion = (
            "likely the same bug: consider merging" if score >= SAME_BUG_THRESHOLD else "similar: review"
        )
        rows.append(
            {
                "a": a.fingerprint,
                "b": b.fingerprint,
                "title_a": a.title[:200],
                "title_b": b.title[:200],
                "score": score,
                "same_type": same_type,
                "same_file": same_file,
                "suggestion": suggestion,
                "why": "; ".join(why) or "similar error text",
                "message_a": _message_cell(a),
                "message_b": _message_cell(b),
                "frames_a": _top_frames(a),
                "frames_b": _top_frames(b),
                "rule": merge_rule(a, b),
            }
        )
    frame = pl.DataFrame(rows, schema=NEAR_DUPLICATE_SCHEMA)
    return frame.sort(["score", "a", "b"], descending=[True, False, False]).head(limit)


def diff_excerpts(a: str, b: str, width: int = 120) -> tuple[str, str]:
    """Both texts on one line each, cut to ``width`` so that where they differ stays visible.

    A long common beginning is replaced by "…" up to a little before the first difference.
    """
    flat_a, flat_b = " ".join(a.split()), " ".join(b.split())
    common = 0
    for x, y in zip(flat_a, flat_b, strict=False):
        if x != y:
            break
        common += 1
    lead = 24
    start = common - lead if common > width // 2 else 0
    if start > 0:  # begin at a word
        space = flat_a.rfind(" ", 0, start + 1)
        start = space + 1 if space > 0 else start

    def cut(text: str) -> str:
        part = ("…" + text[start:]) if start > 0 else text
        return part if len(part) <= width else part[: width - 1] + "…"

    return cut(flat_a), cut(flat_b)


def describe_candidates(pairs: pl.DataFrame, *, limit: int = 15, width: int = 58) -> str:
    """The candidates as text a person reads: both sides next to each other, why, and the rule.

    Everything but the rules is a TOML comment, so the whole text pastes into the rules file;
    delete the blocks of the pairs that are not one bug.
    """
    blocks = []
    for row in pairs.head(limit).iter_rows(named=True):
        left = [*str(row["message_a"] or row["title_a"]).splitlines()[:4], *str(row["frames_a"]).splitlines()]
        right = [
            *str(row["message_b"] or row["title_b"]).splitlines()[:4],
            *str(row["frames_b"]).splitlines(),
        ]
        lines = [f"# score {row['score']:.2f} · {row['suggestion']} · {row['why']}"]
        lines.append(f"#   {'A ' + str(row['a']):<{width}} | B {row['b']}")
        for index in range(max(len(left), len(right))):
            x = left[index] if index < len(left) else ""
            y = right[index] if index < len(right) else ""
            x, y = diff_excerpts(x, y, width) if x and y else (x[:width], y[:width])
            lines.append(f"#   {x:<{width}} | {y}")
        lines.append(str(row["rule"]))
        blocks.append("\n".join(lines))
    return "\n".join(blocks) if blocks else "# no candidates"


def _toml_string(text: str) -> str:
    """A TOML basic string (quotes, backslashes and control characters escaped)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "".join(c if c >= " " and c != "\x7f" else " " for c in escaped) + '"'


def merge_rule(a: PatchTask, b: PatchTask) -> str:
    """A ``[[merge]]`` block for two tasks, with a note naming both."""
    note = f"{_name(a)[:60]} = {_name(b)[:60]}"
    return f'[[merge]]\nfingerprints = ["{a.fingerprint}", "{b.fingerprint}"]\nnote = {_toml_string(note)}\n'


def describe_rule_warnings(tasks: Sequence[PatchTask], config_root: str | Path = ".") -> str:
    """The warnings for the configured rules file (``rules_file`` under ``config_root``), as text."""
    config = load_config(config_root)
    warnings = rule_warnings(load_rules(config.repo_root / config.rules_file), tasks)
    return "\n".join(warnings) or "every rule in the rules file matches a task"


def rule_warnings(rules: MergeRules, tasks: Sequence[PatchTask]) -> list[str]:
    """One line per rule entry that names a fingerprint or raw item no task has.

    Such a rule does nothing: the fingerprint changed (a new selfheal version, a message
    normalized differently), the bug is gone, or the rule has a typo.
    """
    known = {fp for t in tasks for fp in (t.fingerprint, *t.merged_fingerprints)}
    items = {
        f"{o.source}:{o.id}" + (f":{o.project}" if o.project and o.source in _TESTS else "")
        for t in tasks
        for o in t.occurrences
    }
    out = []
    for kind, groups in (
        ("merge", rules.merge),
        ("never_merge", tuple(tuple(sorted(g)) for g in rules.never_merge)),
    ):
        for index, group in enumerate(groups):
            missing = [fp for fp in group if fp not in known]
            if missing:
                out.append(f"rules: {kind}[{index}] names {', '.join(missing)}, which matches no task")
    missing_items = sorted(item for item in rules.split if item not in items)
    if missing_items:
        out.append(f"rules: split names {', '.join(missing_items)}, which matches no raw item")
    return out


def rule_snippet(pairs: Iterable[tuple[str, str]]) -> str:
    """TOML a person can paste into the rules file to merge the given pairs (fingerprints)."""
    blocks = [f'[[merge]]\nfingerprints = ["{a}", "{b}"]\nnote = ""\n' for a, b in pairs]
    return "\n".join(blocks)
