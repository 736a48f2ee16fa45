"""Sentry export (``out/sentry_errors.json``: ``[{issue, latestEvent}]``) → :class:`Failure`.

Fields as Sentry's issue and event API returns them: ``count`` is a string, ``userCount`` an int;
environment and release live in the event's ``tags`` list; exception values are ordered
oldest first with the main exception last, and frames oldest first with the crash frame last
(we store frames crash-first). Issues of type ``default`` (log messages) have no exception
and often no event at all; their ``title`` is the message, possibly truncated.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from selfheal.config import PathMapping
from selfheal.errors import InputError
from selfheal.models import Frame
from selfheal.owners import EventRuntime, area_from_runtime
from selfheal.paths import RepoTree, is_vendor_module, is_vendor_path, to_repo_path
from selfheal.records import Failure, as_dict, as_list, strip_ansi
from selfheal.sources.stacktext import cap_message
from selfheal.storage import read_json

__all__ = ["load_sentry_export", "parse_sentry_export"]

_TYPE_IN_TITLE = re.compile(
    r"^([A-Za-z_][\w.]*(?:Error|Exception|Warning|Exit|Interrupt|Fault|Failure))(?::\s*(.*))?$",
    re.DOTALL,
)


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _tags(event: Mapping[str, Any]) -> dict[str, str]:
    tags = event.get("tags")
    if isinstance(tags, dict):  # the SDK's own shape (Bugsink)
        return {str(k): _str(v) for k, v in tags.items()}
    out: dict[str, str] = {}
    for tag in as_list(tags):
        if isinstance(tag, dict) and "key" in tag:
            out[_str(tag["key"])] = _str(tag.get("value"))
        elif isinstance(tag, list) and len(tag) == 2:
            out[_str(tag[0])] = _str(tag[1])
    return out


def _entries(event: Mapping[str, Any], kind: str) -> list[dict[str, Any]]:
    """The ``data`` of every ``entries[type=kind]`` (API shape), or the SDK payload's own
    top-level ``kind`` object (``exception``, ``threads``, ``stacktrace``: Bugsink, raw events)."""
    found = [
        as_dict(e.get("data"))
        for e in as_list(event.get("entries"))
        if isinstance(e, dict) and e.get("type") == kind
    ]
    if not found and isinstance(event.get(kind), dict):
        found = [event[kind]]
    elif not found and isinstance(event.get(kind), list):
        found = [{"values": event[kind]}]  # older SDKs (Go, store format) send the bare list of values
    return found


def _thread_stacks(event: Mapping[str, Any]) -> list[list[Any]]:
    """Stacks of the ``threads`` entry, the crashed (else current) thread first."""
    threads = [
        t for data in _entries(event, "threads") for t in as_list(data.get("values")) if isinstance(t, dict)
    ]
    threads.sort(key=lambda t: (not t.get("crashed"), not t.get("current")))
    return [as_list(as_dict(t.get("stacktrace")).get("frames")) for t in threads]


def _frame_path(raw: Mapping[str, Any], *, mappings: Sequence[PathMapping], tree: RepoTree | None) -> str:
    """The repository path of an in-app frame, cleaned by :func:`to_repo_path`.

    ``filename`` is preferred when it already is a relative path with a folder (Python's
    ``shop/cart.py``), else the ``absPath`` (Cocoa, Go, PHP, URLs), else the file name alone;
    a JVM frame's bare file name is placed in its module's package folder. With a checkout the
    ``absPath`` comes first: its whole path chooses between files sharing a trailing path.
    """
    filename = _str(raw.get("filename"))
    abs_path = _str(raw.get("absPath") or raw.get("abs_path"))
    module = _str(raw.get("module"))
    # Python's SDK writes ``filename`` relative to the sys.path entry (the project root for the
    # app's own modules: ``manage.py``, ``shop/cart.py``), a better repository path than absPath.
    relative = "/" in filename.strip("/") or (filename.endswith(".py") and not filename.startswith("/"))
    candidates = [filename] if relative and "://" not in filename else []
    candidates += [abs_path, filename]
    if re.fullmatch(r"[\w$]+\.(?:java|kt|scala|groovy)", filename) and "." in module:
        package = module.rsplit(".", 1)[0]  # the module is the class: com.example.app.MainActivity
        candidates.append("/".join([*package.split("."), filename]))
    if tree is not None and abs_path:
        candidates.insert(0, abs_path)  # in a checkout the whole path tells same-named files apart
    cleaned = [p for c in candidates if c and (p := to_repo_path(c, mappings=mappings, tree=tree))]
    if tree is not None:
        verified = [p for p in cleaned if p in tree]
        if verified:
            return verified[0]
    if len(cleaned) > 1 and "/" not in cleaned[0] and "/" in cleaned[-1]:
        return cleaned[-1]  # a bare file name; the package guess says more
    return cleaned[0] if cleaned else ""


def _frames(
    raw_frames: Sequence[Any], *, mappings: Sequence[PathMapping], tree: RepoTree | None
) -> tuple[Frame, ...]:
    frames: list[Frame] = []
    for raw in reversed(raw_frames):  # crash frame first
        if not isinstance(raw, dict):
            continue
        filename = _str(raw.get("filename"))
        abs_path = _str(raw.get("absPath") or raw.get("abs_path"))
        in_app_raw = raw.get("inApp", raw.get("in_app"))
        qualified = _str(raw.get("module")) or _str(raw.get("function"))
        in_app = (
            bool(in_app_raw)
            if in_app_raw is not None
            else not is_vendor_path(abs_path or filename) and not is_vendor_module(qualified)
        )
        lineno = raw.get("lineNo", raw.get("lineno"))
        # SDKs mark module caches in-app (Go's /go/pkg/mod, Rust's ~/.cargo/registry): no fix goes there.
        vendored = is_vendor_path(abs_path) if abs_path else is_vendor_path(filename)
        path = _frame_path(raw, mappings=mappings, tree=tree) if in_app and not vendored else ""
        frames.append(
            Frame(
                filename=filename,
                function=_str(raw.get("function")),
                module=_str(raw.get("module")),
                lineno=lineno if isinstance(lineno, int) and not isinstance(lineno, bool) else None,
                in_app=in_app,
                abs_path=abs_path,
                path=path,
            )
        )
    return tuple(frames)


def _stats(issue: Mapping[str, Any]) -> tuple[tuple[int, int], ...]:
    stats = as_dict(issue.get("stats"))
    for period in ("14d", "24h", "30d", "auto"):
        if period in stats:
            series = stats[period]
            break
    else:
        series = next(iter(stats.values()), [])
    return tuple(
        (_int(point[0]), _int(point[1]))
        for point in as_list(series)
        if isinstance(point, list) and len(point) >= 2
    )


def _breadcrumbs(event: Mapping[str, Any]) -> tuple[str, ...]:
    crumbs: list[str] = []
    for data in _entries(event, "breadcrumbs"):
        for crumb in as_list(data.get("values"))[-20:]:
            if not isinstance(crumb, dict):
                continue
            category = _str(crumb.get("category"))
            message = _str(crumb.get("message")) or _str(as_dict(crumb.get("data")).get("url"))
            stamp = _str(crumb.get("timestamp"))
            crumbs.append(" ".join(p for p in (stamp, f"[{category}]" if category else "", message) if p))
    return tuple(crumbs)


def _logger_module_path(logger: str) -> str:
    """``parliament.engine`` → ``parliament/engine.py`` (a hint, verified later if possible)."""
    if re.fullmatch(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+", logger):
        return logger.replace(".", "/") + ".py"
    return ""


def _one(
    item: Any, index: int, path: str | Path, mappings: Sequence[PathMapping], tree: RepoTree | None
) -> Failure:
    if not isinstance(item, dict):
        raise InputError(path, f"item {index} is {type(item).__name__}, expected an object with 'issue'")
    issue = item.get("issue")
    if not isinstance(issue, dict):
        raise InputError(path, f"item {index} has no 'issue' object")
    issue_id = _str(issue.get("id"))
    if not issue_id:
        raise InputError(path, f"item {index}: issue has no 'id'")
    event = as_dict(item.get("latestEvent"))
    metadata = as_dict(issue.get("metadata"))
    tags = _tags(event)
    title = strip_ansi(_str(issue.get("title")) or _str(metadata.get("title")) or _str(event.get("title")))
    if not title:
        raise InputError(path, f"item {index} (issue {issue_id}): issue has no 'title'")

    exc_values = [
        v for data in _entries(event, "exception") for v in as_list(data.get("values")) if isinstance(v, dict)
    ]
    main = exc_values[-1] if exc_values else {}
    exc_type = _str(main.get("type")) or _str(metadata.get("type"))
    value = _str(main.get("value")) or _str(metadata.get("value"))
    if not exc_type:
        parsed = _TYPE_IN_TITLE.match(title)
        if parsed:
            exc_type, value = parsed.group(1), parsed.group(2) or value
    message = cap_message(strip_ansi(value or title))

    # The main exception's stack first, then a crashed thread's (native crashes, ANRs), then
    # a stack attached to a message (``attach_stacktrace``, a log with a stack).
    stacks = [as_list(as_dict(exc.get("stacktrace")).get("frames")) for exc in reversed(exc_values)]
    stacks += _thread_stacks(event)
    stacks += [as_list(data.get("frames")) for data in _entries(event, "stacktrace")]
    frames: tuple[Frame, ...] = ()
    for stack in stacks:
        frames = _frames(stack, mappings=mappings, tree=tree)
        if frames:
            break
    if not frames and metadata.get("filename"):
        filename = _str(metadata["filename"])
        frames = (
            Frame(
                filename=filename,
                function=_str(metadata.get("function")),
                in_app=not is_vendor_path(filename),
                path=to_repo_path(filename, mappings=mappings, tree=tree),
            ),
        )
    mechanism = as_dict(main.get("mechanism"))
    handled = mechanism.get("handled")
    unhandled = bool(issue.get("isUnhandled")) or handled is False or tags.get("handled") == "no"
    request = next(iter(_entries(event, "request")), {})
    request = request or as_dict(event.get("request"))
    project = as_dict(issue.get("project"))
    logger = _str(issue.get("logger"))
    in_app_files = [f.path for f in frames if f.in_app and f.path]
    file = in_app_files[0] if in_app_files else _logger_module_path(logger)
    event_type = _event_type(issue, event)
    if event_type in _SECURITY_REPORTS:
        exc_type = exc_type or _SECURITY_REPORTS[event_type]
    platform = _str(issue.get("platform")) or _str(event.get("platform"))
    runtime = _runtime(event, tags, platform, event_type, _str(as_dict(metadata.get("sdk")).get("name")))
    runtime = replace(runtime, mobile_stack=_runs_on_mobile(stacks))
    level = (_str(issue.get("level")) or tags.get("level") or _str(event.get("level")) or "error").lower()
    return Failure(
        source="bugsink" if metadata.get("origin") == "bugsink" else "sentry",
        item_id=issue_id,
        title=title,
        exception_type=exc_type,
        message=message,
        frames=frames,
        project=_str(project.get("slug")) or None,
        platform=platform,
        area=area_from_runtime(runtime),
        event_type=event_type,
        culprit=_str(issue.get("culprit")) or _str(event.get("culprit")),
        level=level,
        unhandled=unhandled,
        count=_int(issue.get("count")) or 1,
        users=_int(issue.get("userCount")),
        first_seen=_str(issue.get("firstSeen")) or None,
        last_seen=_str(issue.get("lastSeen")) or _str(event.get("dateCreated")) or None,
        environment=tags.get("environment") or _str(event.get("environment")) or None,
        release=tags.get("release") or _str(as_dict(event.get("release")).get("version")) or None,
        request_url=_str(request.get("url")) or None,
        request_method=_str(request.get("method")) or None,
        breadcrumbs=_breadcrumbs(event),
        permalink=_str(issue.get("permalink")) or None,
        short_id=_str(issue.get("shortId")) or None,
        stats=_stats(issue),
        outcome="error",
        file=file,
        stack=tuple(f.describe() for f in frames[:40]),
        status=_str(issue.get("status")) or "unresolved",
        substatus=_str(issue.get("substatus")) or None,
        priority=_str(issue.get("priority")) or None,
        logger=logger,
    )


#: Browser security reports Sentry stores as their own event types, and the type we give them.
_SECURITY_REPORTS = {
    "csp": "CSPViolation",
    "hpkp": "HPKPViolation",
    "expectct": "ExpectCTViolation",
    "expectstaple": "ExpectStapleViolation",
}


def _event_type(issue: Mapping[str, Any], event: Mapping[str, Any]) -> str:
    """``error`` / ``default`` / ``csp`` / ``hpkp`` / ``expectct`` …: the event's ``type``, else a
    security entry (``entries[type=csp]``, the SDK payload's ``csp`` key), else the issue's."""
    declared = _str(event.get("type")) or _str(issue.get("type"))
    if declared in _SECURITY_REPORTS:
        return declared
    for kind in _SECURITY_REPORTS:
        if _entries(event, kind):
            return kind
    metadata = as_dict(issue.get("metadata"))
    if "directive" in metadata and "uri" in metadata:  # a CSP issue without its event
        return "csp"
    return declared


#: Frames only a mobile runtime has: the Android framework and ART (``android.app.ActivityThread``,
#: ``dalvik.system…``, ``/system/lib64/libc.so``) and the Unity engine (``UnityEngine.…``).
_MOBILE_FRAME = re.compile(
    r"^(?:(?:android|androidx|dalvik|com\.android)\.|UnityEngine[.:]|/system/(?:vendor/)?lib(?:64)?/"
    r"|/apex/com\.android\.)"
)


def _runs_on_mobile(stacks: Sequence[Sequence[Any]]) -> bool:
    """True when a stack holds frames of a mobile runtime (events that carry no os context)."""
    for stack in stacks:
        for raw in stack:
            if isinstance(raw, dict) and any(
                _MOBILE_FRAME.match(_str(raw.get(key)))
                for key in ("module", "function", "package", "abs_path")
            ):
                return True
    return False


def _runtime(
    event: Mapping[str, Any], tags: Mapping[str, str], platform: str, event_type: str, issue_sdk: str
) -> EventRuntime:
    contexts = as_dict(event.get("contexts"))
    sdk = as_dict(event.get("sdk"))
    os_context = as_dict(contexts.get("os")) or as_dict(contexts.get("client_os"))
    device = as_dict(contexts.get("device"))
    runtime = as_dict(contexts.get("runtime"))
    return EventRuntime(
        platform=_str(event.get("platform")) or platform,
        sdk_name=_str(sdk.get("name"))
        or tags.get("sdk.name", "")
        or tags.get("sdk", "").split("/")[0]
        or issue_sdk,  # the issue's metadata.sdk, when the event is missing
        os_name=_str(os_context.get("name")) or tags.get("os.name", "") or tags.get("os", "").split(" ")[0],
        runtime_name=_str(runtime.get("name"))
        or tags.get("runtime.name", "")
        or tags.get("runtime", "").split(" ")[0],
        device_family=_str(device.get("family")) or tags.get("device.family", ""),
        has_browser=bool(contexts.get("browser")) or "browser" in tags,
        event_type=event_type,
    )


def parse_sentry_export(
    data: Any,
    path: str | Path,
    *,
    mappings: Sequence[PathMapping] = (),
    tree: RepoTree | None = None,
) -> list[Failure]:
    """Typed records for every issue in a ``[{issue, latestEvent}]`` export."""
    if not isinstance(data, list):
        raise InputError(
            path,
            f"expected a JSON list of {{issue, latestEvent}} objects, found {type(data).__name__}",
        )
    return [_one(item, i, path, mappings, tree) for i, item in enumerate(data)]


def load_sentry_export(
    path: str | Path, *, mappings: Sequence[PathMapping] = (), tree: RepoTree | None = None
) -> list[Failure]:
    return parse_sentry_export(read_json(path), path, mappings=mappings, tree=tree)
