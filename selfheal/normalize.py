"""Raw items → PatchTasks: fingerprint, cluster (with human rules), score, assign, compare.

``build_tasks`` is the one entry point used by the CLI, the notebooks and the demo; it is
pure (no network, no environment); repository access (CODEOWNERS, file tree) is passed in.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import polars as pl

from selfheal.config import Config
from selfheal.dedup import MergeRules, apply_rules
from selfheal.fingerprint import key_frame, normalize_message_expr
from selfheal.models import Evidence, ExpectedFix, Occurrence, PatchTask, severity_rank
from selfheal.owners import CodeOwners, assign_owner
from selfheal.paths import RepoTree
from selfheal.records import Failure
from selfheal.severity import score_severity

__all__ = [
    "build_tasks",
    "cluster_frame",
    "compare_with_previous",
    "fingerprint_failures",
    "fingerprint_frame",
    "merge_tasks",
]

_SOURCE_ORDER = ("sentry", "bugsink", "playwright", "junit")
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


def fingerprint_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Add a ``fingerprint`` column to a frame with ``exception_type``, ``message``, ``frame_key``.

    Normalization runs as polars expressions over the whole column; SHA-256 runs once per
    distinct key (stable across polars versions, unlike ``Expr.hash``), so the cost grows
    with the number of distinct bugs, not with the number of raw items.
    """
    keys = frame.select(
        pl.concat_str(
            [
                pl.col("exception_type").fill_null(""),
                normalize_message_expr("message"),
                pl.col("frame_key").fill_null(""),
            ],
            separator="\x1f",
        ).alias("key")
    )["key"]
    distinct = keys.unique()
    digests = [hashlib.sha256(k.encode()).hexdigest()[:16] for k in distinct.to_list()]
    return frame.with_columns(fingerprint=keys.replace_strict(distinct, digests, return_dtype=pl.String))


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


def fingerprint_failures(failures: Sequence[Failure]) -> list[str]:
    """One fingerprint per raw item (same order), through :func:`fingerprint_frame`."""
    if not failures:
        return []
    frame = pl.DataFrame(
        {
            "exception_type": [f.exception_type for f in failures],
            "message": [f.message or f.title for f in failures],
            "frame_key": [key_frame(f) for f in failures],
        },
        schema={"exception_type": pl.String, "message": pl.String, "frame_key": pl.String},
    )
    return fingerprint_frame(frame)["fingerprint"].to_list()


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


def _files_hint(group: Sequence[Failure], tree: RepoTree | None) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for f in group:
        for frame in f.frames:
            if frame.in_app and frame.path and not frame.path.startswith(("http:", "https:")):
                seen.setdefault(frame.path, None)
        if f.file:
            seen.setdefault(f.file, None)
    files = list(seen)
    if tree is not None:
        verified = [p for p in files if p in tree]
        if verified:
            files = verified
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
    flaky = all(f.outcome == "flaky" for f in group if f.source in {"playwright", "junit"}) and any(
        f.source in {"playwright", "junit"} for f in group
    )
    permalinks = tuple(dict.fromkeys(f.permalink for f in group if f.permalink))
    screenshots = [f.screenshot for f in group if f.screenshot]
    status = "regressed" if any(f.substatus == "regressed" for f in group) else "new"
    merged = len(group)
    notes = (
        f"{merged} raw item{'s' if merged != 1 else ''} from {', '.join(sources)} merged by fingerprint "
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
    )


def compare_with_previous(tasks: Sequence[PatchTask], previous: Sequence[PatchTask]) -> list[PatchTask]:
    """Mark each task new / ongoing / regressed against last run, and add the resolved ones."""
    before = {t.fingerprint: t for t in previous}
    out: list[PatchTask] = []
    for task in tasks:
        old = before.get(task.fingerprint)
        if task.status == "regressed" or (old is not None and old.status == "resolved"):
            status = "regressed"
        elif old is not None:
            status = "ongoing"
        else:
            status = "new"
        out.append(task.with_changes(status=status))
    current = {t.fingerprint for t in tasks}
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
    fingerprints = fingerprint_failures(failures)
    assignment = apply_rules(
        {f.key: fp for f, fp in zip(failures, fingerprints, strict=True)}, rules or MergeRules()
    )
    groups: dict[str, list[Failure]] = defaultdict(list)
    for f in failures:
        groups[assignment[f.key]].append(f)
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
    by_fp: dict[str, list[PatchTask]] = defaultdict(list)
    for task in tasks:
        by_fp[task.fingerprint].append(task)
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
        merged.append(
            base.with_changes(
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
