"""Typed records: the PatchTask contract and its parts.

A :class:`PatchTask` is one real bug, however many raw items (Sentry issues, Playwright tests,
JUnit cases) were merged into it. Its JSON form (``to_json``) validates against the original
pipeline's schema (``schemas/patchtask.original.schema.json``, owner enum relaxed) and against
our extended schema (``schemas/patchtask.schema.json``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, cast

__all__ = [
    "AREAS",
    "FIX_KINDS",
    "SEVERITIES",
    "SOURCES",
    "STATUSES",
    "Evidence",
    "ExpectedFix",
    "Frame",
    "Occurrence",
    "PatchTask",
    "Severity",
    "severity_rank",
]

Severity = Literal["blocker", "high", "medium", "low"]
#: Most severe first.
SEVERITIES: tuple[Severity, ...] = ("blocker", "high", "medium", "low")
AREAS = ("frontend", "backend", "infra", "mobile", "edge")
FIX_KINDS = ("guardrail", "bugfix", "refactor", "test", "docs")
SOURCES = ("sentry", "playwright", "junit", "bugsink")
#: Week-over-week status of a task relative to the previous run.
STATUSES = ("new", "ongoing", "regressed", "resolved")


def severity_rank(severity: str) -> int:
    """0 for blocker … 3 for low (unknown values sort last)."""
    try:
        return SEVERITIES.index(cast(Severity, severity))
    except ValueError:
        return len(SEVERITIES)


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One raw item merged into a task."""

    source: str
    id: str
    project: str | None = None
    #: Sentry's human issue id (``SHOP-API-7``): ``Fixes <shortId>`` in a PR resolves the issue.
    short_id: str | None = None

    def to_json(self) -> dict[str, str]:
        out = {"source": self.source, "id": self.id}
        if self.project is not None:
            out["project"] = self.project
        if self.short_id:
            out["shortId"] = self.short_id
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Occurrence:
        project = data.get("project")
        short_id = data.get("shortId")
        return cls(
            str(data["source"]),
            str(data["id"]),
            None if project is None else str(project),
            str(short_id) if short_id else None,
        )


@dataclass(frozen=True, slots=True)
class Frame:
    """A stack frame, normalized across sources. ``path`` is the repository-relative guess."""

    filename: str = ""
    function: str = ""
    module: str = ""
    lineno: int | None = None
    in_app: bool = True
    abs_path: str = ""
    path: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "function": self.function,
            "module": self.module,
            "lineNo": self.lineno,
            "inApp": self.in_app,
            "absPath": self.abs_path,
            "path": self.path,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Frame:
        lineno = data.get("lineNo")
        return cls(
            filename=str(data.get("filename") or ""),
            function=str(data.get("function") or ""),
            module=str(data.get("module") or ""),
            lineno=int(lineno) if isinstance(lineno, int) else None,
            in_app=bool(data.get("inApp", True)),
            abs_path=str(data.get("absPath") or ""),
            path=str(data.get("path") or ""),
        )

    def describe(self) -> str:
        """``path:line in function`` for stacks shown to people."""
        where = self.path or self.filename or self.abs_path or self.module or "?"
        line = f":{self.lineno}" if self.lineno is not None else ""
        func = f" in {self.function}" if self.function else ""
        return f"{where}{line}{func}"


@dataclass(frozen=True, slots=True)
class Evidence:
    sentry_url: str | None = None
    stack: tuple[str, ...] = ()
    breadcrumbs: tuple[str, ...] = ()
    request_url: str | None = None
    request_method: str | None = None
    screenshot: str | None = None
    dom_snapshot: str | None = None
    network_har: str | None = None
    frames: tuple[Frame, ...] = ()
    message: str = ""
    links: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.sentry_url:
            out["sentryUrl"] = self.sentry_url
        out["stack"] = list(self.stack)
        out["breadcrumbs"] = list(self.breadcrumbs)
        if self.request_url or self.request_method:
            req: dict[str, str] = {}
            if self.request_url:
                req["url"] = self.request_url
            if self.request_method:
                req["method"] = self.request_method
            out["request"] = req
        optional = {
            "screenshot": self.screenshot,
            "domSnapshot": self.dom_snapshot,
            "networkHar": self.network_har,
        }
        out.update({key: value for key, value in optional.items() if value})
        out["frames"] = [f.to_json() for f in self.frames]
        out["message"] = self.message
        out["links"] = list(self.links)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Evidence:
        req = data.get("request") or {}
        return cls(
            sentry_url=data.get("sentryUrl"),
            stack=tuple(str(s) for s in data.get("stack") or ()),
            breadcrumbs=tuple(str(s) for s in data.get("breadcrumbs") or ()),
            request_url=req.get("url"),
            request_method=req.get("method"),
            screenshot=data.get("screenshot"),
            dom_snapshot=data.get("domSnapshot"),
            network_har=data.get("networkHar"),
            frames=tuple(Frame.from_json(f) for f in data.get("frames") or ()),
            message=str(data.get("message") or ""),
            links=tuple(str(s) for s in data.get("links") or ()),
        )


@dataclass(frozen=True, slots=True)
class ExpectedFix:
    kind: str = "bugfix"
    files_hint: tuple[str, ...] = ()
    notes: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "filesHint": list(self.files_hint), "notes": self.notes}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ExpectedFix:
        return cls(
            kind=str(data.get("kind") or "bugfix"),
            files_hint=tuple(str(s) for s in data.get("filesHint") or ()),
            notes=str(data.get("notes") or ""),
        )


@dataclass(frozen=True, slots=True)
class PatchTask:
    """One bug to fix, with the evidence of every raw item merged into it."""

    id: str
    title: str
    area: str
    owner: str
    severity: Severity
    frequency: int
    last_seen: str
    fingerprint: str
    source: str
    first_seen: str | None = None
    severity_reasons: tuple[str, ...] = ()
    occurrences: tuple[Occurrence, ...] = ()
    evidence: Evidence = field(default_factory=Evidence)
    expected_fix: ExpectedFix = field(default_factory=ExpectedFix)
    sources: tuple[str, ...] = ()
    exception_type: str = ""
    culprit: str = ""
    users: int = 0
    environment: str | None = None
    release: str | None = None
    status: str = "new"
    flaky: bool = False
    #: Daily (or per-run) event counts: ``(unix_seconds, count)`` pairs, oldest first.
    stats: tuple[tuple[int, int], ...] = ()
    #: Why the raw items were put together (one sentence per merge), for the person reviewing.
    merge_reasons: tuple[str, ...] = ()
    #: The fingerprints of the clusters merged into this one (besides ``fingerprint``), so rules
    #: naming any of them, and task files written before the merge, still find this task.
    merged_fingerprints: tuple[str, ...] = ()

    def with_changes(self, **changes: Any) -> PatchTask:
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "area": self.area,
            "owner": self.owner,
            "severity": self.severity,
            "frequency": self.frequency,
            "lastSeen": self.last_seen,
        }
        if self.first_seen:
            out["firstSeen"] = self.first_seen
        out["evidence"] = self.evidence.to_json()
        out["expectedFix"] = self.expected_fix.to_json()
        out.update(
            {
                "source": self.source,
                "sources": list(self.sources or (self.source,)),
                "fingerprint": self.fingerprint,
                "severityReasons": list(self.severity_reasons),
                "occurrences": [o.to_json() for o in self.occurrences],
                "exceptionType": self.exception_type,
                "culprit": self.culprit,
                "users": self.users,
                "environment": self.environment,
                "release": self.release,
                "status": self.status,
                "flaky": self.flaky,
                "stats": [[ts, n] for ts, n in self.stats],
                "mergeReasons": list(self.merge_reasons),
            }
        )
        if self.merged_fingerprints:
            out["mergedFingerprints"] = list(self.merged_fingerprints)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PatchTask:
        severity = str(data.get("severity", "low"))
        if severity not in SEVERITIES:
            raise ValueError(f"severity {severity!r} is not one of {', '.join(SEVERITIES)}")
        fingerprint = str(data.get("fingerprint") or data["id"])
        source = str(data.get("source") or "sentry")
        return cls(
            id=str(data["id"]),
            title=str(data["title"]),
            area=str(data["area"]),
            owner=str(data["owner"]),
            severity=severity,
            frequency=int(data["frequency"]),
            last_seen=str(data["lastSeen"]),
            first_seen=data.get("firstSeen"),
            fingerprint=fingerprint,
            source=source,
            sources=tuple(str(s) for s in data.get("sources") or (source,)),
            severity_reasons=tuple(str(s) for s in data.get("severityReasons") or ()),
            occurrences=tuple(Occurrence.from_json(o) for o in data.get("occurrences") or ()),
            evidence=Evidence.from_json(data.get("evidence") or {}),
            expected_fix=ExpectedFix.from_json(data.get("expectedFix") or {}),
            exception_type=str(data.get("exceptionType") or ""),
            culprit=str(data.get("culprit") or ""),
            users=int(data.get("users") or 0),
            environment=data.get("environment"),
            release=data.get("release"),
            status=str(data.get("status") or "new"),
            flaky=bool(data.get("flaky", False)),
            stats=tuple((int(p[0]), int(p[1])) for p in data.get("stats") or ()),
            merge_reasons=tuple(str(s) for s in data.get("mergeReasons") or ()),
            merged_fingerprints=tuple(str(s) for s in data.get("mergedFingerprints") or ()),
        )
