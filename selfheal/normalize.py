"""Raw items → PatchTasks: fingerprint, cluster (with human rules), score, assign, compare.

``build_tasks`` is the one entry point used by the CLI, the notebooks and the demo; it is
pure (no network, no environment); repository access (CODEOWNERS, file tree) is passed in.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import polars as pl

from selfheal.config import Config
from selfheal.dedup import MergeRules, plan_clusters
from selfheal.fingerprint import fingerprint_failures, is_app_frame
from selfheal.models import Evidence, ExpectedFix, Occurrence, PatchTask, severity_rank
from selfheal.owners import CodeOwners, assign_owner
from selfheal.paths import RepoTree
from selfheal.records import Failure
from selfheal.severity import score_severity

__all__ = [
    "build_tasks",
    "cluster_frame",
    "compare_with_previous",
    "merge_tasks",
]

_SOURCE_ORDER = ("sentry", "bugsink", "playwright", "junit")
_TEST_SOURCES = frozenset({"playwright", "junit"})
_GUARDRAIL_HINTS = (
    "RateLimit",
    "Timeout",
    "ConnectionError",
    "CircuitBreaker",
    "Circuit breaker",
    "502",
    "503",
)
MAX_TITLE = 200
MAX_EVIDENCE_MESSAGE = 8_000


def cluster_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per fingerprint: items, events, users, sources, last seen (most events first)."""
    return (
        frame.group_by("fingerprint")
        .agg(
            items=pl.len(),
            frequency=pl.col("count").sum(),
            users=pl.col("users").sum(),
            sources=pl.col("source").unique().sort(),
            exception_type=pl.col("exception_type").first(),
            message=pl.col("message").first(),
            last_seen=pl.col("last_seen").max(),
        )
        .sort(["frequency", "fingerprint"], descending=[True, False])
    )


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _occurrence(f: Failure) -> Occurrence:
    if f.source == "playwright":
        return Occurrence("playwright", f.item_id, f.project or "")
    if f.source == "junit" and f.project:
        return Occurrence("junit", f.item_id, f.project)
    # Only Sentry resolves an issue from `Fixes <shortId>` in a merged PR.
    return Occurrence(f.source, f.item_id, short_id=f.short_id if f.source == "sentry" else None)


def _title(rep: Failure) -> str:
    if rep.source in {"playwright", "junit"}:
        first = next((line.strip() for line in rep.message.splitlines() if line.strip()), "")
        text = f"{rep.title} — {first}" if first and first not in rep.title else rep.title
    else:
        text = rep.title
    text = " ".join(text.split())
    return text if len(text) <= MAX_TITLE else text[: MAX_TITLE - 1] + "…"


#: Test code: folders and file names test runners use (the fix is rarely there).
_TEST_CODE = re.compile(
    r"(?:^|/)(?:tests?|e2e|__tests__|specs?|cypress|playwright)/"
    r"|\.(?:spec|test|e2e)\.[cm]?[jt]sx?$|(?:^|/)test_[^/]*\.py$|_test\.(?:py|go)$|(?:^|/)conftest\.py$"
)
_URL_HOST = re.compile(r"^[a-z][a-z0-9+.-]*://[^/]*/", re.IGNORECASE)


def _hint_candidates(group: Sequence[Failure]) -> list[tuple[str, str]]:
    """``(path, absolute path)`` guesses, where the fix most likely is first.

    Application frames before test code: the innermost in-app frame of the errors, then the
    application frames of the tests (a page error's script), then test helpers and the test
    file itself, known to be right only when nothing better is.
    """
    ranked: list[tuple[int, int, str, str]] = []
    for f in group:
        test = f.source in _TEST_SOURCES
        for frame in f.frames:
            if frame.in_app and frame.path and not frame.path.startswith(("http:", "https:")):
                is_test_code = test and (frame.path == f.file or bool(_TEST_CODE.search(frame.path)))
                # A vendored script is rarely where the fix goes: after the app's own frames.
                rank = 3 if is_test_code else (2 if not is_app_frame(frame) else (1 if test else 0))
                ranked.append((rank, len(ranked), frame.path, frame.abs_path))
        if f.file:
            rank = 3 if test else 2
            ranked.append((rank, len(ranked), f.file, ""))
    ranked.sort()
    return [(path, absolute) for _, _, path, absolute in ranked]


def _longest_suffix_in(tree: RepoTree, absolute: str) -> str | None:
    """The longest trailing part of a frame's whole absolute path that is a file of the checkout.

    ``/srv/app/backend/shop/receipts.py`` picks ``backend/shop/receipts.py`` over a
    ``releases/2.0/backend/shop/receipts.py`` snapshot that shares only its last three parts.
    """
    parts = [p for p in _URL_HOST.sub("", absolute.replace("\\", "/")).split("?", 1)[0].split("/") if p]
    for start in range(len(parts)):
        candidate = "/".join(parts[start:])
        if candidate in tree:
            return candidate
    return None


def _files_hint(group: Sequence[Failure], tree: RepoTree | None) -> tuple[str, ...]:
    """Files to look at first. With a checkout, files found in it come first, but a guess that
    is not found (a served URL, a path the checkout spells differently) is kept after them."""
    seen: dict[str, None] = {}
    unsure: dict[str, None] = {}
    for path, absolute in _hint_candidates(group):
        if tree is None or path in tree:
            seen.setdefault(path, None)
            continue
        resolved = _longest_suffix_in(tree, absolute) if absolute else None
        if resolved is None:
            resolved = tree.resolve(path)
        if resolved is not None:
            seen.setdefault(resolved, None)
        else:
            unsure.setdefault(path, None)
    # An unsure guess already found under a longer path (its checkout spelling) is that file.
    found = [*seen]
    files = [*found, *(p for p in unsure if p not in seen and not any(f.endswith("/" + p) for f in found))]
    return tuple(files[:8])


def _merge_stats(group: Iterable[Failure]) -> tuple[tuple[int, int], ...]:
    buckets: dict[int, int] = defaultdict(int)
    for f in group:
        for ts, n in f.stats:
            buckets[ts] += n
    return tuple(sorted(buckets.items()))


def _fix_kind(rep: Failure, flaky: bool) -> str:
    if flaky:
        return "test"
    text = f"{rep.exception_type} {rep.title}"
    if any(h in text for h in _GUARDRAIL_HINTS):
        return "guardrail"
    return "bugfix"


def _task(
    fingerprint: str,
    group: list[Failure],
    config: Config,
    *,
    tree: RepoTree | None,
    codeowners: CodeOwners | None,
    projects_in_run: frozenset[str],
    now: datetime,
    merge_reasons: tuple[str, ...] = (),
    merged_fingerprints: tuple[str, ...] = (),
) -> PatchTask:
    group = sorted(
        group,
        key=lambda f: (_SOURCE_ORDER.index(f.source) if f.source in _SOURCE_ORDER else 9, -f.count),
    )
    rep = max(group, key=lambda f: f.count) if all(f.source == group[0].source for f in group) else group[0]
    sources = tuple(dict.fromkeys(f.source for f in group))
    frequency = sum(f.count for f in group)
    users = sum(f.users for f in group)
    seen_first = [t for t in (_parse_time(f.first_seen) for f in group) if t]
    seen_last = [t for t in (_parse_time(f.last_seen) for f in group) if t]
    stats = _merge_stats(group)
    title = _title(rep)
    files = _files_hint(group, tree)
    platform = rep.platform or ("javascript" if rep.source == "playwright" else "")
    ownership = assign_owner(
        files, config, codeowners=codeowners, platform=platform, sources=sources, runtime_area=rep.area
    )
    verdict = score_severity(
        group,
        config.severity,
        title=title,
        message=rep.message,
        frequency=frequency,
        users=users,
        stats=stats,
        projects_in_run=projects_in_run,
    )
    # A test that also shows a production error is a real bug, however flaky the test.
    flaky = all(f.outcome == "flaky" for f in group if f.source in _TEST_SOURCES) and all(
        f.source in _TEST_SOURCES for f in group
    )
    permalinks = tuple(dict.fromkeys(f.permalink for f in group if f.permalink))
    screenshots = [f.screenshot for f in group if f.screenshot]
    status = "regressed" if any(f.substatus == "regressed" for f in group) else "new"
    merged = len(group)
    notes = (
        f"{merged} raw item{'s' if merged != 1 else ''} from {', '.join(sources)} in task "
        f"{fingerprint}; owner: {ownership.reason}; severity: {verdict.reasons[0]}"
    )
    message = (
        rep.message
        if len(rep.message) <= MAX_EVIDENCE_MESSAGE
        else rep.message[:MAX_EVIDENCE_MESSAGE] + "\n…"
    )
    return PatchTask(
        id=f"{rep.source}-{fingerprint[:12]}",
        title=title,
        area=ownership.area,
        owner=ownership.owner,
        severity=verdict.severity,
        frequency=frequency,
        last_seen=_iso(max(seen_last)) if seen_last else _iso(now),
        first_seen=_iso(min(seen_first)) if seen_first else None,
        fingerprint=fingerprint,
        source=rep.source,
        sources=sources,
        severity_reasons=verdict.reasons,
        occurrences=tuple(_occurrence(f) for f in group),
        evidence=Evidence(
            sentry_url=permalinks[0] if permalinks else None,
            stack=rep.stack[:40],
            breadcrumbs=rep.breadcrumbs[-20:],
            request_url=rep.request_url,
            request_method=rep.request_method,
            screenshot=screenshots[0] if screenshots else None,
            frames=rep.frames[:20],
            message=message,
            links=permalinks,
        ),
        expected_fix=ExpectedFix(kind=_fix_kind(rep, flaky), files_hint=files, notes=notes),
        exception_type=rep.exception_type,
        culprit=rep.culprit,
        users=users,
        environment=rep.environment,
        release=rep.release,
        status=status,
        flaky=flaky,
        stats=stats,
        merge_reasons=merge_reasons,
        merged_fingerprints=merged_fingerprints,
    )


def compare_with_previous(tasks: Sequence[PatchTask], previous: Sequence[PatchTask]) -> list[PatchTask]:
    """Mark each task new / ongoing / regressed against last run, and add the resolved ones."""
    before = {t.fingerprint: t for t in previous}
    out: list[PatchTask] = []
    for task in tasks:
        # Last run may have named this bug by a cluster that is now merged into it.
        old = next((before[fp] for fp in (task.fingerprint, *task.merged_fingerprints) if fp in before), None)
        if task.status == "regressed" or (old is not None and old.status == "resolved"):
            status = "regressed"
        elif old is not None:
            status = "ongoing"
        else:
            status = "new"
        out.append(task.with_changes(status=status))
    current = {fp for t in tasks for fp in (t.fingerprint, *t.merged_fingerprints)}
    out += [
        old.with_changes(status="resolved")
        for old in previous
        if old.fingerprint not in current and old.status != "resolved"
    ]
    return out


def build_tasks(
    failures: Sequence[Failure],
    config: Config,
    *,
    rules: MergeRules | None = None,
    previous: Sequence[PatchTask] | None = None,
    min_frequency: int = 0,
    tree: RepoTree | None = None,
    codeowners: CodeOwners | None = None,
    now: datetime | None = None,
) -> list[PatchTask]:
    """PatchTasks for ``failures``: one per bug, most severe and most frequent first.

    ``min_frequency`` drops error-tracker clusters seen fewer times (test failures always count).
    """
    plan = plan_clusters(failures, fingerprint_failures(failures), rules or MergeRules())
    groups: dict[str, list[Failure]] = defaultdict(list)
    for f in failures:
        groups[plan.task_of[f.key]].append(f)
    projects_in_run = frozenset(
        f.project for f in failures if f.source in {"playwright", "junit"} and f.project
    )
    moment = now or datetime.now(UTC)
    tasks = []
    for fingerprint, group in groups.items():
        from_trackers = all(f.source in {"sentry", "bugsink"} for f in group)
        if from_trackers and sum(f.count for f in group) < min_frequency:
            continue
        tasks.append(
            _task(
                fingerprint,
                group,
                config,
                tree=tree,
                codeowners=codeowners,
                projects_in_run=projects_in_run,
                now=moment,
                merge_reasons=plan.reasons.get(fingerprint, ()),
                merged_fingerprints=plan.members.get(fingerprint, ()),
            )
        )
    if previous is not None:
        tasks = compare_with_previous(tasks, previous)
    return sorted(
        tasks, key=lambda t: (t.status == "resolved", severity_rank(t.severity), -t.frequency, t.id)
    )


_STATUS_PRECEDENCE = ("regressed", "ongoing", "new")


def _merged_status(statuses: Iterable[str]) -> str:
    """A task seen in any file is not resolved; among live statuses the most telling wins."""
    seen = set(statuses)
    return next((s for s in _STATUS_PRECEDENCE if s in seen), "resolved")


def merge_tasks(tasks: Sequence[PatchTask]) -> list[PatchTask]:
    """Merge tasks from several files that share a fingerprint (``selfheal pr`` reads them all)."""
    # A task that merged several clusters also takes the tasks another file wrote for them
    # (a test-only file next to the merged file), so one bug is one PR.
    alias: dict[str, str] = {}
    for task in sorted(tasks, key=lambda t: -len(t.merged_fingerprints)):
        for member in task.merged_fingerprints:
            alias.setdefault(member, alias.get(task.fingerprint, task.fingerprint))
    by_fp: dict[str, list[PatchTask]] = defaultdict(list)
    for task in tasks:
        by_fp[alias.get(task.fingerprint, task.fingerprint)].append(task)
    merged: list[PatchTask] = []
    for group in by_fp.values():
        group.sort(key=lambda t: (-len(t.occurrences), severity_rank(t.severity)))
        base = group[0]
        occurrences = list(base.occurrences)
        frequency = base.frequency
        for other in group[1:]:
            # The same raw item, whether or not the file that names it kept Sentry's shortId.
            seen = {(o.source, o.id, o.project) for o in occurrences}
            new = [o for o in other.occurrences if (o.source, o.id, o.project) not in seen]
            occurrences += new
            frequency += other.frequency if new else 0
        best = min(group, key=lambda t: severity_rank(t.severity))
        head = next((t for t in group if t.merged_fingerprints), base)
        members = dict.fromkeys(m for t in group for m in (t.fingerprint, *t.merged_fingerprints))
        members.pop(head.fingerprint, None)
        merged.append(
            head.with_changes(
                merge_reasons=tuple(dict.fromkeys(r for t in group for r in t.merge_reasons)),
                merged_fingerprints=tuple(members),
                status=_merged_status(t.status for t in group),
                occurrences=tuple(occurrences),
                frequency=frequency,
                severity=best.severity,
                severity_reasons=best.severity_reasons,
                sources=tuple(dict.fromkeys(s for t in group for s in (t.sources or (t.source,)))),
                last_seen=max(t.last_seen for t in group),
            )
        )
    return sorted(merged, key=lambda t: (severity_rank(t.severity), -t.frequency, t.id))
