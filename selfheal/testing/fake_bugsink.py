"""A fake Bugsink canonical API (``/api/canonical/0/``) on 127.0.0.1, for tests.

Serves the shapes a real Bugsink 2.6.2 answers (the fixtures in ``tests/fixtures/bugsink/`` were
captured from one):

- ``GET projects/``, ``projects/{id}/``; ``issues/?project=&state=&sort=&order=&q=``,
  ``issues/{uuid|friendly_id}/``; ``events/?issue=&order=`` (summaries: the detail without
  ``data``/``stacktrace_md``, newest first), ``events/{uuid}/`` (the detail);
  ``GET /health/ready`` (``OK``).
- DRF cursor pagination: ``{"next": url|null, "previous": url|null, "results": [...]}``,
  ``page_size`` (250) per page, opaque base64 cursors, no ``Link`` header, no rate-limit headers.
- ``Authorization: Bearer <token>`` only; 401 bodies as Bugsink words them.
- Lifecycle, latency, the request log, the in-flight counter and faults come from
  :class:`~selfheal.testing._server.LoopbackFake`.
"""

from __future__ import annotations

import base64
import copy
import re
from collections.abc import Mapping, Sequence
from typing import Any, Unpack
from urllib.parse import urlencode

from selfheal.testing._server import IncomingRequest, LoopbackFake, Reply, ServerOptions

__all__ = ["FakeBugsink"]

_ROOT = "/api/canonical/0"
_ONE = re.compile(rf"^{_ROOT}/(?P<kind>projects|issues|events)/(?P<id>[^/]+)/$")
_LIST = re.compile(rf"^{_ROOT}/(?P<kind>projects|issues|events)/$")
_SUMMARY_DROP = ("data", "stacktrace_md")


class FakeBugsink(LoopbackFake):
    """Bugsink's read API over ``projects``, ``issues`` and event details (with ``data``)."""

    token: str  # always required

    def __init__(
        self,
        *,
        projects: Sequence[Mapping[str, Any]],
        issues: Sequence[Mapping[str, Any]],
        events: Sequence[Mapping[str, Any]],
        token: str = "0123456789abcdef0123456789abcdef01234567",  # noqa: S107 (a fake's test token)
        page_size: int = 250,
        path_prefix: str = "",
        **server: Unpack[ServerOptions],
    ) -> None:
        super().__init__(token=token, path_prefix=path_prefix, **server)
        self.projects = [copy.deepcopy(dict(p)) for p in projects]
        self.issues = [copy.deepcopy(dict(i)) for i in issues]
        self.events = [copy.deepcopy(dict(e)) for e in events]
        self.page_size = page_size

    # ----------------------------------------------------------------- answering
    def _reply(self, request: IncomingRequest, in_flight: int) -> Reply:
        path = self._route_target(request)
        if path is None:
            return self._json(404, {"detail": "Not found."})
        if path == "/health/ready":
            return Reply(status=200, body=b"OK", headers=[("Content-Type", "text/plain")])
        if request.authorization is None:
            return self._json(401, {"detail": "Authentication credentials were not provided."})
        if request.authorization != f"Bearer {self.token}":
            return self._json(401, {"detail": "Invalid Bearer token."})
        faulted = self._faulted(request, [], lambda: self._route(path, request.query))
        if faulted is not None:
            return faulted
        if request.method != "GET":
            return self._json(405, {"detail": f'Method "{request.method}" not allowed.'})
        reply = self._route(path, request.query)
        reply.delay = max(reply.delay, self.latency)
        return reply

    def _route(self, path: str, query: dict[str, list[str]]) -> Reply:
        if match := _LIST.match(path):
            kind = match["kind"]
            if kind == "projects":
                return self._page(path, query, self.projects)
            if kind == "issues":
                return self._page(path, query, self._select_issues(query))
            issue_ref = (query.get("issue") or [""])[0]
            if not issue_ref:
                return self._json(400, {"issue": ["This field is required."]})
            issue = self._issue(issue_ref)
            if issue is None:
                return self._json(404, {"detail": "No Issue matches the given query."})
            events = [e for e in self.events if e.get("issue") == issue["id"]]
            newest_first = (query.get("order") or ["desc"])[0] != "asc"
            events.sort(key=lambda e: int(e.get("digest_order") or 0), reverse=newest_first)
            summaries = [{k: v for k, v in e.items() if k not in _SUMMARY_DROP} for e in events]
            return self._page(path, query, summaries)
        if match := _ONE.match(path):
            found: Mapping[str, Any] | None
            if match["kind"] == "projects":
                found = next((p for p in self.projects if str(p.get("id")) == match["id"]), None)
            elif match["kind"] == "issues":
                found = self._issue(match["id"])
            else:
                found = next((e for e in self.events if e.get("id") == match["id"]), None)
            if found is None:
                return self._json(404, {"detail": "No object matches the given query."})
            return self._json(200, found)
        return self._json(404, {"detail": "Not found."})

    def _issue(self, ref: str) -> dict[str, Any] | None:
        return next((i for i in self.issues if ref in {i.get("id"), i.get("friendly_id")}), None)

    def _select_issues(self, query: Mapping[str, list[str]]) -> list[dict[str, Any]]:
        project = (query.get("project") or [""])[0]
        state = (query.get("state") or ["open"])[0]
        text = (query.get("q") or [""])[0].lower()
        chosen = []
        for issue in self.issues:
            if project and str(issue.get("project")) != project:
                continue
            resolved, muted = bool(issue.get("is_resolved")), bool(issue.get("is_muted"))
            wanted = {
                "open": not resolved and not muted,
                "unresolved": not resolved,
                "resolved": resolved,
                "muted": muted,
            }.get(state, True)
            if not wanted:
                continue
            haystack = f"{issue.get('calculated_type')} {issue.get('calculated_value')}".lower()
            if text and ":" not in text and text not in haystack:
                continue
            chosen.append(issue)
        sort = (query.get("sort") or ["digest_order"])[0]
        descending = (query.get("order") or ["asc"])[0] == "desc"
        chosen.sort(
            key=lambda i: str(i.get(sort, "")) if sort == "last_seen" else int(i.get(sort) or 0),
            reverse=descending,
        )
        return chosen

    def _page(self, path: str, query: dict[str, list[str]], rows: Sequence[Mapping[str, Any]]) -> Reply:
        cursor = (query.get("cursor") or [""])[0]
        try:
            offset = int(base64.b64decode(cursor).decode().removeprefix("o=")) if cursor else 0
        except ValueError:
            return self._json(404, {"detail": "Invalid cursor"})
        rest = [(k, v) for k, values in query.items() if k != "cursor" for v in values]

        def link(to: int) -> str:
            token = base64.b64encode(f"o={to}".encode()).decode()
            where = f"{self._origin()}{self.path_prefix}{path}"
            return f"{where}?{urlencode([('cursor', token), *rest])}"

        body = {
            "next": link(offset + self.page_size) if offset + self.page_size < len(rows) else None,
            "previous": link(max(offset - self.page_size, 0)) if offset > 0 else None,
            "results": list(rows[offset : offset + self.page_size]),
        }
        return self._json(200, body)
