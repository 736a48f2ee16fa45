"""What Sentry's server does with the events the SDKs send, for the triage corpus.

1. Processing: stack-trace rules (the project's ``path:**/vendor/** -app``), source context
   for JavaScript frames (Sentry fetches the served script; we read the deployed file).
2. Grouping, as the default grouping is documented (develop.sentry.dev/grouping): a
   fingerprint from the SDK wins; else the
   stack trace of every exception in the chain (only in-app frames when there are any; per
   frame the module, or for JavaScript the normalized file name, the normalized function and
   the line's text, never the line number; the exception type counts, its message does not);
   else the exception type and value; else the log message (its template).
3. The web API's shapes: ``GET /organizations/{org}/issues/`` items and
   ``GET .../issues/{id}/events/latest/`` (camelCase frames with ``context`` pairs, ``entries``,
   ``tags`` as ``[{key, value}]``, ``count`` a string), written as ``[{issue, latestEvent}]``.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

ORG = "corner-shop"
GROUPING_CONFIG = {"id": "newstyle:2023-01-11", "enhancements": "project: path:**/vendor/** -app"}
_VENDOR_RULE = re.compile(r"/vendor/")
_URL_HOST = re.compile(r"^[a-z][a-z0-9+.-]*://[^/]+")
_ANONYMOUS = {"<anonymous>", "?", ""}

SourceLookup = Callable[[str], Sequence[str] | None]
"""Lines of a served script by its URL, or None (Sentry's source fetching)."""


@dataclass(slots=True)
class ReceivedEvent:
    project: str
    platform: str
    payload: dict[str, Any]
    received: datetime


@dataclass(slots=True)
class Group:
    project: str
    hash: str
    events: list[ReceivedEvent] = field(default_factory=list)

    @property
    def issue_id(self) -> str:
        # Deterministic numeric id: the same grouping hash always names the same issue.
        return str(int(self.hash[:8], 16) + 4_000_000_000)


# --- processing ------------------------------------------------------------------------------


def process(event: dict[str, Any], sources: SourceLookup) -> dict[str, Any]:
    """Stack-trace rules and JavaScript source context, in place."""
    for exc in (event.get("exception") or {}).get("values") or []:
        for frame in (exc.get("stacktrace") or {}).get("frames") or []:
            where = str(frame.get("abs_path") or frame.get("filename") or "")
            if _VENDOR_RULE.search(where):
                frame["in_app"] = False
            if event.get("platform") == "javascript" and "context_line" not in frame and frame.get("lineno"):
                lines = sources(where)
                if lines is not None and 0 < frame["lineno"] <= len(lines):
                    index = frame["lineno"] - 1
                    column = int(frame.get("colno") or 0)
                    frame["pre_context"] = [_trim_line(line) for line in lines[max(0, index - 5) : index]]
                    frame["context_line"] = _trim_line(lines[index], column)
                    frame["post_context"] = [_trim_line(line) for line in lines[index + 1 : index + 6]]
    return event


def _trim_line(line: str, column: int = 0) -> str:
    """Long (minified) lines are cut around the column with ``{snip}`` markers, as Sentry does."""
    if len(line) <= 150:
        return line
    start = max(0, min(column - 70, len(line) - 140))
    piece = line[start : start + 140]
    return ("{snip} " if start > 0 else "") + piece + (" {snip}" if start + 140 < len(line) else "")


# --- grouping --------------------------------------------------------------------------------


def _js_filename(frame: Mapping[str, Any]) -> str:
    raw = str(frame.get("abs_path") or frame.get("filename") or "")
    path = _URL_HOST.sub("", raw).split("?", 1)[0].split("#", 1)[0]
    return re.sub(r"\b[0-9a-f]{8,}\b", "<hash>", path)  # cache-busting hashes


def _function(frame: Mapping[str, Any]) -> str:
    name = str(frame.get("function") or "")
    name = re.sub(r"^(?:async |Object\.|HTMLButtonElement\.)", "", name)
    return "" if name in _ANONYMOUS or "<lambda>" in name else name


def _frame_components(frame: Mapping[str, Any], platform: str) -> list[str]:
    where = (
        _js_filename(frame) if platform == "javascript" else str(frame.get("module") or frame.get("filename"))
    )
    parts = [where, _function(frame)]
    context = str(frame.get("context_line") or "").strip()
    if context and len(context) <= 120:
        parts.append(context)
    elif not parts[1]:
        parts.append(str(frame.get("lineno") or ""))  # no function and no usable line text
    return parts


def grouping_components(event: Mapping[str, Any]) -> list[str]:
    if event.get("fingerprint"):
        return ["fingerprint", *map(str, event["fingerprint"])]
    platform = str(event.get("platform") or "")
    values = (event.get("exception") or {}).get("values") or []
    if values:
        all_frames = [f for v in values for f in (v.get("stacktrace") or {}).get("frames") or []]
        any_in_app = any(f.get("in_app") for f in all_frames)
        stack: list[str] = []
        for value in values:
            frames = (value.get("stacktrace") or {}).get("frames") or []
            chosen = [f for f in frames if f.get("in_app")] if any_in_app else frames
            stack.append(f"type={value.get('type')}")
            for frame in chosen:
                stack.extend(_frame_components(frame, platform))
        if all_frames:
            return ["stacktrace", *stack]
        return ["exception", *[f"{v.get('type')}: {v.get('value')}" for v in values]]
    logentry = event.get("logentry") or {}
    return ["message", str(logentry.get("message") or event.get("message") or "")]


def group_events(events: Iterable[ReceivedEvent]) -> list[Group]:
    groups: dict[tuple[str, str], Group] = {}
    for event in events:
        digest = hashlib.md5("\x00".join(grouping_components(event.payload)).encode()).hexdigest()  # noqa: S324 - grouping hash, as Sentry's
        groups.setdefault((event.project, digest), Group(event.project, digest)).events.append(event)
    return sorted(groups.values(), key=lambda g: (g.project, min(e.received for e in g.events)))


# --- API shapes ----------------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _main_exception(payload: Mapping[str, Any]) -> dict[str, Any]:
    values = (payload.get("exception") or {}).get("values") or []
    return values[-1] if values else {}


def _crash_frame(exc: Mapping[str, Any]) -> dict[str, Any]:
    frames = (exc.get("stacktrace") or {}).get("frames") or []
    in_app = [f for f in frames if f.get("in_app")]
    return (in_app or frames or [{}])[-1]


def _api_filename(frame: Mapping[str, Any], platform: str) -> str:
    return _js_filename(frame) if platform == "javascript" else str(frame.get("filename") or "")


def _api_module(frame: Mapping[str, Any], platform: str) -> str | None:
    if platform == "javascript":
        name = _js_filename(frame).lstrip("/")
        return re.sub(r"\.[mc]?js$", "", name) or None
    return frame.get("module")


def _api_frame(frame: Mapping[str, Any], platform: str) -> dict[str, Any]:
    lineno = frame.get("lineno")
    context: list[list[Any]] = []
    if lineno and "context_line" in frame:
        pre = list(frame.get("pre_context") or [])
        post = list(frame.get("post_context") or [])
        context = [[lineno - len(pre) + i, line] for i, line in enumerate(pre)]
        context.append([lineno, frame["context_line"]])
        context += [[lineno + 1 + i, line] for i, line in enumerate(post)]
    return {
        "filename": _api_filename(frame, platform),
        "absPath": frame.get("abs_path") or frame.get("filename"),
        "module": _api_module(frame, platform),
        "package": None,
        "platform": None,
        "instructionAddr": None,
        "symbolAddr": None,
        "function": frame.get("function"),
        "rawFunction": None,
        "symbol": None,
        "context": context,
        "lineNo": lineno,
        "colNo": frame.get("colno"),
        "inApp": bool(frame.get("in_app")),
        "trust": None,
        "errors": None,
        "lock": None,
        "sourceLink": None,
        "vars": frame.get("vars"),
    }


def _title(payload: Mapping[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """(type, title, metadata) as the server derives them."""
    exc = _main_exception(payload)
    platform = str(payload.get("platform") or "")
    if exc:
        crash = _crash_frame(exc)
        value = str(exc.get("value") or "")
        metadata = {
            "type": exc.get("type"),
            "value": value[:1024],
            "filename": _api_filename(crash, platform),
            "function": crash.get("function"),
            "display_title_with_tree_label": False,
            "in_app_frame_mix": _frame_mix(exc),
        }
        first_line = value.splitlines()[0] if value else ""
        return (
            "error",
            f"{exc.get('type')}: {first_line}"[:200] if first_line else str(exc.get("type")),
            metadata,
        )
    logentry = payload.get("logentry") or {}
    message = str(logentry.get("formatted") or logentry.get("message") or payload.get("message") or "")
    return "default", message[:200], {"title": message[:200]}


def _frame_mix(exc: Mapping[str, Any]) -> str:
    flags = {bool(f.get("in_app")) for f in (exc.get("stacktrace") or {}).get("frames") or []}
    return "mixed" if flags == {True, False} else ("in-app-only" if flags == {True} else "system-only")


def _culprit(payload: Mapping[str, Any]) -> str:
    if payload.get("transaction"):
        return str(payload["transaction"])
    exc = _main_exception(payload)
    if not exc:
        return str(payload.get("logger") or "")
    crash = _crash_frame(exc)
    platform = str(payload.get("platform") or "")
    where = _api_module(crash, platform) or _api_filename(crash, platform)
    return f"{where} in {crash.get('function') or '?'}"


def _tags(payload: Mapping[str, Any]) -> list[dict[str, str]]:
    tags: dict[str, str] = {}
    exc = _main_exception(payload)
    mechanism = exc.get("mechanism") or {}
    tags["environment"] = str(payload.get("environment") or "production")
    tags["level"] = str(payload.get("level") or "error")
    if payload.get("release"):
        tags["release"] = str(payload["release"])
    if exc:
        tags["handled"] = "no" if mechanism.get("handled") is False else "yes"
        tags["mechanism"] = str(mechanism.get("type") or "generic")
    if payload.get("server_name"):
        tags["server_name"] = str(payload["server_name"])
    if payload.get("transaction"):
        tags["transaction"] = str(payload["transaction"])
    if payload.get("logger"):
        tags["logger"] = str(payload["logger"])
    user = payload.get("user") or {}
    if user.get("id"):
        tags["user"] = f"id:{user['id']}"
    request = payload.get("request") or {}
    if request.get("url"):
        tags["url"] = str(request["url"])
    for key, value in (payload.get("tags") or {}).items():
        tags[str(key)] = str(value)
    browser = (payload.get("contexts") or {}).get("browser") or {}
    if browser.get("name"):
        tags["browser.name"] = str(browser["name"])
    return [{"key": k, "value": v} for k, v in sorted(tags.items())]


def _request_entry(payload: Mapping[str, Any]) -> dict[str, Any] | None:
    request = payload.get("request")
    if not request:
        return None
    headers = request.get("headers") or {}
    query = request.get("query_string") or ""
    pairs = [[*p.split("=", 1), ""] for p in query.split("&") if p] if isinstance(query, str) else []
    return {
        "type": "request",
        "data": {
            "url": request.get("url"),
            "method": request.get("method"),
            "query": [[p[0], p[1]] for p in pairs],
            "headers": [[k, v] for k, v in sorted(headers.items())],
            "cookies": [],
            "data": None,
            "env": None,
            "fragment": None,
            "inferredContentType": None,
        },
    }


def _breadcrumbs_entry(payload: Mapping[str, Any]) -> dict[str, Any] | None:
    crumbs = payload.get("breadcrumbs")
    values = crumbs.get("values") if isinstance(crumbs, dict) else crumbs
    if not values:
        return None
    out = []
    for crumb in values[-10:]:
        stamp = crumb.get("timestamp")
        if isinstance(stamp, int | float):
            stamp = _iso(datetime.fromtimestamp(stamp, UTC))
        out.append(
            {
                "type": crumb.get("type") or "default",
                "category": crumb.get("category"),
                "level": crumb.get("level") or "info",
                "timestamp": stamp,
                "message": crumb.get("message"),
                "data": crumb.get("data"),
                "event_id": None,
            }
        )
    return {"type": "breadcrumbs", "data": {"values": out}}


def api_event(group: Group, received: ReceivedEvent, project_id: str) -> dict[str, Any]:
    payload = received.payload
    platform = str(payload.get("platform") or received.platform)
    issue_type, title, metadata = _title(payload)
    entries: list[dict[str, Any]] = []
    values = (payload.get("exception") or {}).get("values") or []
    if values:
        api_values = []
        for value in values:
            frames = (value.get("stacktrace") or {}).get("frames") or []
            api_values.append(
                {
                    "type": value.get("type"),
                    "value": value.get("value"),
                    "module": value.get("module"),
                    "threadId": None,
                    "mechanism": value.get("mechanism"),
                    "stacktrace": {
                        "frames": [_api_frame(f, platform) for f in frames],
                        "framesOmitted": None,
                        "registers": None,
                        "hasSystemFrames": any(not f.get("in_app") for f in frames),
                    }
                    if frames
                    else None,
                    "rawStacktrace": None,
                }
            )
        entries.append(
            {
                "type": "exception",
                "data": {
                    "values": api_values,
                    "excOmitted": None,
                    "hasSystemFrames": any(
                        not f.get("in_app")
                        for v in values
                        for f in (v.get("stacktrace") or {}).get("frames") or []
                    ),
                },
            }
        )
    elif payload.get("logentry"):
        logentry = payload["logentry"]
        entries.append(
            {
                "type": "message",
                "data": {
                    "formatted": logentry.get("formatted") or logentry.get("message"),
                    "message": logentry.get("message"),
                    "params": logentry.get("params"),
                },
            }
        )
    entries += [e for e in (_request_entry(payload), _breadcrumbs_entry(payload)) if e is not None]
    exc = _main_exception(payload)
    crash = _crash_frame(exc) if exc else {}
    user = payload.get("user") or {}
    sdk = payload.get("sdk") or {}
    return {
        "id": payload["event_id"],
        "eventID": payload["event_id"],
        "groupID": group.issue_id,
        "projectID": project_id,
        "title": title,
        "message": (payload.get("logentry") or {}).get("formatted", "") if issue_type == "default" else "",
        "culprit": _culprit(payload),
        "location": _api_filename(crash, platform) if crash else None,
        "platform": platform,
        "type": issue_type,
        "metadata": metadata,
        "tags": _tags(payload),
        "dateCreated": _iso(received.received),
        "dateReceived": _iso(received.received),
        "user": {
            "id": user.get("id"),
            "email": None,
            "username": None,
            "ip_address": None,
            "name": None,
            "geo": None,
            "data": None,
        }
        if user
        else None,
        "entries": entries,
        "contexts": {
            k: v for k, v in (payload.get("contexts") or {}).items() if k in ("browser", "os", "runtime")
        },
        "release": {"version": payload["release"]} if payload.get("release") else None,
        "sdk": {"name": sdk.get("name"), "version": sdk.get("version")},
        "dist": None,
        "packages": {},
        "errors": [],
        "fingerprints": [group.hash],
        "groupingConfig": GROUPING_CONFIG,
        "size": len(str(payload)),
        "userReport": None,
        "crashFile": None,
        "nextEventID": None,
        "previousEventID": None,
    }


def _stats(group: Group, end: datetime) -> dict[str, list[list[int]]]:
    day = 86_400
    last = int(end.timestamp()) // day * day
    buckets = [last - day * i for i in range(13, -1, -1)]
    counts: dict[int, int] = defaultdict(int)
    for event in group.events:
        counts[int(event.received.timestamp()) // day * day] += 1
    return {"14d": [[b, counts.get(b, 0)] for b in buckets]}


def export(
    groups: Sequence[Group], *, projects: Mapping[str, tuple[str, str]], end: datetime
) -> list[dict[str, Any]]:
    """``[{issue, latestEvent}]``; ``projects``: slug → (project id, platform)."""
    items = []
    short_ids: dict[str, int] = defaultdict(int)
    for group in groups:
        project_id, platform = projects[group.project]
        short_ids[group.project] += 1
        events = sorted(group.events, key=lambda e: e.received)
        latest = events[-1]
        issue_type, title, metadata = _title(latest.payload)
        users = {
            str((e.payload.get("user") or {}).get("id"))
            for e in events
            if (e.payload.get("user") or {}).get("id")
        }
        mechanism = _main_exception(latest.payload).get("mechanism") or {}
        first_seen = events[0].received
        issue = {
            "id": group.issue_id,
            "shareId": None,
            "shortId": f"{group.project.upper()}-{short_ids[group.project]:X}",
            "title": title,
            "culprit": _culprit(latest.payload),
            "permalink": f"https://{ORG}.sentry.io/issues/{group.issue_id}/",
            "logger": latest.payload.get("logger"),
            "level": str(latest.payload.get("level") or "error"),
            "status": "unresolved",
            "statusDetails": {},
            "substatus": "new" if (end - first_seen).days < 3 else "ongoing",
            "isPublic": False,
            "platform": platform,
            "project": {"id": project_id, "name": group.project, "slug": group.project, "platform": platform},
            "type": issue_type,
            "metadata": metadata,
            "numComments": 0,
            "assignedTo": None,
            "isBookmarked": False,
            "isSubscribed": False,
            "hasSeen": False,
            "annotations": [],
            "issueType": "error",
            "issueCategory": "error",
            "priority": "high" if mechanism.get("handled") is False else "medium",
            "isUnhandled": mechanism.get("handled") is False,
            "count": str(len(events)),
            "userCount": len(users),
            "firstSeen": _iso(first_seen),
            "lastSeen": _iso(latest.received),
            "stats": _stats(group, end),
        }
        items.append({"issue": issue, "latestEvent": api_event(group, latest, project_id)})
    # The issues endpoint's default order: last seen first (sort=date).
    return sorted(items, key=lambda item: (item["issue"]["lastSeen"], item["issue"]["id"]), reverse=True)
