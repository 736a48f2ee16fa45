"""Explainable severity: every rule that fires adds a reason; the most severe reason wins.

Default rules (thresholds in ``[tool.selfheal.severity]``):

==========================================  =========
signal                                      severity
==========================================  =========
Sentry level ``fatal``                      blocker
users ≥ ``users_blocker`` (100)             blocker
events ≥ ``frequency_blocker`` (1000)       blocker
configured regex rule on title/message      its own
users ≥ ``users_high`` (10)                 high
events ≥ ``frequency_high`` (50)            high
unhandled exception                         high
rising: last bucket ≥ 3× avg and ≥ 10     high
test fails in every project, every attempt  high
test fails on every attempt in some         medium
test timed out                              medium
error level (baseline)                      medium
warning / info level                        low
(warning / info level caps the result at    medium)
flaky test (passed on retry)                low
==========================================  =========

Browser security reports (CSP, HPKP, Expect-CT: Sentry event types ``csp``, ``hpkp``,
``expectct``) are a kind of their own. Browsers send one per blocked resource per page view,
extensions and injected scripts make many of them, and no code path crashed: user and event
counts say how widespread a policy mismatch is, not how broken the product is. So they are
``low``, ``medium`` when ≥ ``users_high`` users or ≥ ``frequency_high`` events are affected,
and never more unless a configured regex rule says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from selfheal.config import SeverityConfig
from selfheal.models import SEVERITIES, Severity, severity_rank
from selfheal.records import Failure

__all__ = ["SECURITY_REPORT_TYPES", "SeverityVerdict", "score_severity", "trend_ratio"]


@dataclass(frozen=True, slots=True)
class SeverityVerdict:
    severity: Severity
    reasons: tuple[str, ...]


def trend_ratio(stats: Sequence[tuple[int, int]]) -> float | None:
    """Last bucket over the average of the earlier buckets (None without enough history)."""
    if len(stats) < 3:
        return None
    *earlier, (_, last) = stats
    average = sum(n for _, n in earlier) / len(earlier)
    if average == 0:
        return float("inf") if last > 0 else None
    return last / average


#: Sentry event types of browser security reports.
SECURITY_REPORT_TYPES = frozenset({"csp", "hpkp", "expectct", "expectstaple"})


def _score_security_report(
    reports: Sequence[Failure],
    config: SeverityConfig,
    *,
    title: str,
    message: str,
    frequency: int,
    users: int,
) -> SeverityVerdict:
    """Severity of browser security reports (see the module docstring)."""
    kinds = "/".join(sorted({f.event_type.upper() for f in reports}))
    found: list[tuple[Severity, str]] = [("low", f"browser security report ({kinds}) → low")]
    if users >= config.users_high:
        found.append(("medium", f"{kinds} report from {users} users (≥ {config.users_high}) → medium"))
    elif frequency >= config.frequency_high:
        found.append(("medium", f"{frequency} {kinds} reports (≥ {config.frequency_high}) → medium"))
    found += [
        (rule.severity, f"{rule.field} matches rule /{rule.pattern}/ → {rule.severity}")
        for rule in config.rules
        if rule.matches(title, message)
    ]
    ordered = sorted(found, key=lambda item: severity_rank(item[0]))
    return SeverityVerdict(ordered[0][0], tuple(reason for _, reason in ordered))


def score_severity(
    failures: Sequence[Failure],
    config: SeverityConfig,
    *,
    title: str,
    message: str,
    frequency: int,
    users: int,
    stats: Sequence[tuple[int, int]],
    projects_in_run: frozenset[str] = frozenset(),
) -> SeverityVerdict:
    """Score one task (its merged raw items) and say why."""
    found: list[tuple[Severity, str]] = []

    def add(severity: Severity, reason: str) -> None:
        found.append((severity, f"{reason} → {severity}"))

    errors = [f for f in failures if f.source in {"sentry", "bugsink"}]
    tests = [f for f in failures if f.source in {"playwright", "junit"}]
    if errors and not tests and all(f.event_type in SECURITY_REPORT_TYPES for f in errors):
        return _score_security_report(
            errors, config, title=title, message=message, frequency=frequency, users=users
        )
    if any(f.level == "fatal" for f in errors):
        add("blocker", "level is fatal")
    for rule in config.rules:
        if rule.matches(title, message):
            add(rule.severity, f"{rule.field} matches rule /{rule.pattern}/")
    if users >= config.users_blocker:
        add("blocker", f"{users} users affected (≥ {config.users_blocker})")
    elif users >= config.users_high:
        add("high", f"{users} users affected (≥ {config.users_high})")
    if errors:
        if frequency >= config.frequency_blocker:
            add("blocker", f"{frequency} events (≥ {config.frequency_blocker})")
        elif frequency >= config.frequency_high:
            add("high", f"{frequency} events (≥ {config.frequency_high})")
        if any(f.unhandled for f in errors):
            add("high", "unhandled exception")
        ratio = trend_ratio(stats)
        last = stats[-1][1] if stats else 0
        if ratio is not None and ratio >= config.trend_high and last >= config.trend_min_events:
            shown = "new activity" if ratio == float("inf") else f"{ratio:.1f}× the average"
            add("high", f"events rising: {last} in the last period, {shown}")
        levels = {f.level for f in errors}
        if levels & {"error", "fatal"}:
            add("medium", "error-level events")
        elif levels:
            add("low", f"{'/'.join(sorted(levels))}-level events only")
    if tests:
        hard = [f for f in tests if f.outcome != "flaky"]
        if hard:
            every_attempt = all(f.failed_attempts >= f.attempts for f in hard)
            failing_projects = {f.project for f in hard if f.project}
            all_projects = bool(projects_in_run) and failing_projects >= projects_in_run
            if every_attempt and (all_projects or not projects_in_run):
                scope = f"all {len(projects_in_run)} projects" if projects_in_run else "the run"
                add("high", f"test fails in {scope} on every attempt")
            elif every_attempt:
                add(
                    "medium",
                    f"test fails on every attempt in {', '.join(sorted(failing_projects))} only",
                )
            else:
                add("medium", "test fails on some attempts")
            if any(f.timed_out for f in hard):
                add("medium", "test timed out")
        else:
            add("low", "flaky: failed, then passed on retry")
    if not found:
        add("medium", "no rule matched; default")
    best = min(found, key=lambda item: severity_rank(item[0]))[0]
    only_warnings = bool(errors) and not tests and not ({f.level for f in errors} & {"error", "fatal"})
    if only_warnings and severity_rank(best) < severity_rank("medium"):
        best = "medium"
        found.append(("medium", "warning-level events cap severity at medium"))
    ordered = sorted(found, key=lambda item: severity_rank(item[0]))
    assert best in SEVERITIES  # noqa: S101 - invariant: severities come from the closed set
    return SeverityVerdict(best, tuple(reason for _, reason in ordered))
