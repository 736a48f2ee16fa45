"""The raw-item record every source produces: one :class:`Failure` per Sentry issue,
Playwright test (per project), or JUnit test case.

Sources turn raw JSON/XML into these right at the boundary; everything downstream
(fingerprints, dedup, severity, owners) works on them, never on raw payloads. The coercers
:func:`as_dict`, :func:`as_list` and :func:`as_text` read a raw JSON value whose shape is not
trusted: a value of another kind reads as empty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from selfheal.models import Frame

__all__ = ["ANSI_RE", "Failure", "as_dict", "as_list", "as_text", "strip_ansi"]

#: SGR sequences (the only kind Playwright emits) plus other CSI sequences, to be safe.
ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def strip_ansi(text: str) -> str:
    return ANSI_RE.sub("", text)


def as_dict(value: object) -> dict[str, Any]:
    """A JSON object, or ``{}`` for any other value (``null``, an array, a string …)."""
    return value if isinstance(value, dict) else {}


def as_list(value: object) -> list[Any]:
    """A JSON array, or ``[]`` for any other value."""
    return value if isinstance(value, list) else []


def as_text(value: object) -> str:
    """A JSON string, or ``""`` for any other value (numbers are not turned into text)."""
    return value if isinstance(value, str) else ""


@dataclass(frozen=True, slots=True)
class Failure:
    """One raw item, typed. ``frames`` are ordered crash frame first."""

    source: str
    """``sentry`` | ``bugsink`` | ``playwright`` | ``junit``."""
    item_id: str
    """Sentry issue id | Playwright spec id | JUnit ``classname::name``."""
    title: str
    exception_type: str = ""
    message: str = ""
    """ANSI-stripped error text (the full message; dedup normalizes it)."""
    frames: tuple[Frame, ...] = ()
    project: str | None = None
    """Playwright project name; Sentry project slug (informational)."""
    platform: str = ""
    area: str = ""
    """The area the event's runtime names (``mobile``, ``edge`` …, see
    :func:`selfheal.owners.area_from_runtime`); '' to decide it from the files."""
    event_type: str = ""
    """Sentry's event type: ``error``, ``default``, or a browser security report
    (``csp``, ``hpkp``, ``expectct``); '' for tests."""
    culprit: str = ""
    level: str = "error"
    unhandled: bool = False
    count: int = 1
    """Events (Sentry ``count``), or failing attempts for tests."""
    users: int = 0
    first_seen: str | None = None
    last_seen: str | None = None
    environment: str | None = None
    release: str | None = None
    request_url: str | None = None
    request_method: str | None = None
    breadcrumbs: tuple[str, ...] = ()
    permalink: str | None = None
    short_id: str | None = None
    """Sentry ``shortId`` (``SHOP-API-7``), Bugsink's friendly id; ``None`` for tests."""
    stats: tuple[tuple[int, int], ...] = ()
    """``(unix_seconds, events)`` buckets, oldest first."""
    outcome: str = "error"
    """Sentry: ``error``; Playwright: ``unexpected`` | ``flaky``; JUnit: ``failure`` | ``error``."""
    timed_out: bool = False
    attempts: int = 1
    failed_attempts: int = 1
    file: str = ""
    """Repository path of the test file (tests) or of the crash frame (errors), when known."""
    test_path: tuple[str, ...] = ()
    """Describe titles then the test title (tests only)."""
    stack: tuple[str, ...] = ()
    """Human-readable stack lines, crash frame first."""
    status: str = "unresolved"
    """Sentry status (``unresolved`` | ``resolved`` | ``ignored``); tests: ``unresolved``."""
    substatus: str | None = None
    priority: str | None = None
    logger: str = ""
    screenshot: str | None = None
    tags: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """A unique key for this raw item: ``source:id[:project]``."""
        # Tests run once per project (Playwright projects, JUnit suites per host): one raw item each.
        tested = self.source in {"playwright", "junit"} and self.project
        return f"{self.source}:{self.item_id}" + (f":{self.project}" if tested else "")
