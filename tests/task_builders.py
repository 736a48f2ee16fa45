"""A PatchTask builder shared by the PR tests (valid against both contracts)."""

from __future__ import annotations

import hashlib
from typing import Any

from selfheal.models import Evidence, Occurrence, PatchTask


def make_task(n: int, severity: str = "high", frequency: int = 10, **changes: Any) -> PatchTask:
    return PatchTask(
        id=f"sentry-{n}",
        title=f"TypeError number {n}",
        area="backend",
        owner="api",
        severity=severity,  # type: ignore[arg-type]  # tests pass valid literals
        frequency=frequency,
        last_seen="2026-01-11T15:22:36Z",
        fingerprint=hashlib.sha256(str(n).encode()).hexdigest()[:32],
        source="sentry",
        severity_reasons=(f"rule: {severity}",),
        evidence=Evidence(message=f"boom {n} for jane@example.com"),
        occurrences=(Occurrence("sentry", str(n)),),
    ).with_changes(**changes)
