"""Raw inputs in the real formats (a Sentry ``{issue, latestEvent}`` export, a Playwright JSON
report), built small for the triage tests and parsed by the real sources.

The shapes follow the bundled sample (``selfheal/data/sample/``) and the Sentry / Playwright
formats documented in ``facts/``: frames are oldest first in a Sentry event (the parser turns
them crash first), a Playwright ``errors[].message`` is the message, a blank line and the stack.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from selfheal.records import Failure
from selfheal.sources.playwright import parse_playwright_report
from selfheal.sources.sentry_export import parse_sentry_export


@dataclass(frozen=True, slots=True)
class PyFrame:
    """A Python frame: module ``billing.discounts``, function, line; in-app unless a library."""

    module: str
    function: str
    lineno: int = 10
    in_app: bool = True

    def to_sentry(self) -> dict[str, Any]:
        filename = self.module.replace(".", "/") + ".py"
        root = "/srv/app/" if self.in_app else "/usr/lib/python3.12/"
        return {
            "filename": filename,
            "absPath": root + filename,
            "module": self.module,
            "function": self.function,
            "lineNo": self.lineno,
            "inApp": self.in_app,
            "context": [],
        }


@dataclass(frozen=True, slots=True)
class JsFrame:
    """A browser frame of a served script (``http://localhost:3000/static/app.js``)."""

    url: str
    function: str
    lineno: int = 10
    colno: int = 5

    def to_sentry(self) -> dict[str, Any]:
        path = "/" + self.url.split("://", 1)[-1].split("/", 1)[-1]
        return {
            "filename": path,
            "absPath": self.url,
            "module": None,
            "function": self.function,
            "lineNo": self.lineno,
            "colNo": self.colno,
            "inApp": True,
            "context": [],
        }

    def v8_line(self) -> str:
        return f"    at {self.function} ({self.url}:{self.lineno}:{self.colno})"


def sentry_issue(
    issue_id: str,
    exception_type: str,
    value: str,
    frames: Sequence[PyFrame | JsFrame],
    *,
    release: str = "shop@1.0.0",
    count: int = 5,
    platform: str = "python",
) -> dict[str, Any]:
    """One export item; ``frames`` are crash first (as people read a traceback bottom-up)."""
    title = f"{exception_type}: {value}"
    return {
        "issue": {
            "id": issue_id,
            "title": title,
            "culprit": "",
            "permalink": f"https://acme.sentry.io/issues/{issue_id}/",
            "level": "error",
            "status": "unresolved",
            "platform": platform,
            "project": {"id": "1", "slug": "shop", "name": "shop", "platform": platform},
            "metadata": {"type": exception_type, "value": value},
            "count": str(count),
            "userCount": 1,
            "firstSeen": "2026-11-20T09:00:00Z",
            "lastSeen": "2026-11-24T09:00:00Z",
        },
        "latestEvent": {
            "id": f"e{issue_id}",
            "groupID": issue_id,
            "title": title,
            "platform": platform,
            "tags": [{"key": "release", "value": release}, {"key": "environment", "value": "production"}],
            "entries": [
                {
                    "type": "exception",
                    "data": {
                        "values": [
                            {
                                "type": exception_type,
                                "value": value,
                                "mechanism": {"type": "generic", "handled": False},
                                "stacktrace": {"frames": [f.to_sentry() for f in reversed(frames)]},
                            }
                        ]
                    },
                }
            ],
        },
    }


def sentry_failures(*items: dict[str, Any]) -> list[Failure]:
    return parse_sentry_export(list(items), "sentry_errors.json")


@dataclass(frozen=True, slots=True)
class Spec:
    """One failing Playwright test in both projects: its title path, error text and stack."""

    file: str
    titles: tuple[str, ...]
    message: str
    stack: tuple[str, ...] = ()
    line: int = 12
    status: str = "failed"


def playwright_failures(specs: Sequence[Spec], projects: Sequence[str] = ("chromium",)) -> list[Failure]:
    root = "/work/shop/e2e"
    suites = []
    for index, spec in enumerate(specs):
        stack = spec.stack or (f"    at {root}/tests/{spec.file}:{spec.line}:7",)
        text = spec.message + "\n\n" + "\n".join(stack)
        results = [
            {
                "status": spec.status,
                "startTime": "2026-11-24T09:00:00.000Z",
                "errors": [{"message": text}],
                "error": {"message": spec.message, "stack": text},
                "attachments": [],
            }
        ]
        tests = [
            {
                "projectName": project,
                "status": "unexpected",
                "expectedStatus": "passed",
                "timeout": 5000,
                "results": results,
            }
            for project in projects
        ]
        *describes, title = spec.titles
        spec_json = {
            "title": title,
            "id": f"spec{index}",
            "file": spec.file,
            "line": spec.line,
            "tests": tests,
        }
        suite: dict[str, Any] = {"title": spec.file, "file": spec.file, "specs": [], "suites": []}
        if describes:
            suite["suites"] = [{"title": describes[0], "file": spec.file, "specs": [spec_json], "suites": []}]
        else:
            suite["specs"] = [spec_json]
        suites.append(suite)
    report = {
        "config": {"rootDir": f"{root}/tests", "configFile": f"{root}/playwright.config.ts"},
        "suites": suites,
        "errors": [],
        "stats": {"startTime": "2026-11-24T09:00:00.000Z"},
    }
    return parse_playwright_report(report, "report.json")
