"""The pulling engine both sources share (`selfheal.sources._pull`), against real loopback fakes."""

from __future__ import annotations

import asyncio
import copy
import inspect
import json
from pathlib import Path
from typing import Any

import pytest
from test_bugsink_pull import FAST, captured_data, settings_for

from selfheal.errors import RemoteError
from selfheal.sources._http import ApiClient, JsonResponse
from selfheal.sources._pull import paginate
from selfheal.sources.bugsink import pull_bugsink
from selfheal.storage import write_json
from selfheal.testing.fake_bugsink import FakeBugsink

PROJECTS = "api/canonical/0/projects/"


def bugsink_with_projects(extra: int, page_size: int) -> FakeBugsink:
    """The captured data, with ``extra`` other projects listed before ``demo-app``."""
    projects, issues, events = captured_data()
    others = []
    for number in range(extra):
        other = copy.deepcopy(projects[0])
        other.update(id=100 + number, name=f"other-{number}", slug=f"other-{number}")
        others.append(other)
    return FakeBugsink(projects=[*others, *projects], issues=issues, events=events, page_size=page_size)


def cursor_in_next(page: JsonResponse) -> str | None:
    next_url = page.data.get("next") if isinstance(page.data, dict) else None
    return next_url.split("cursor=", 1)[1].split("&", 1)[0] if next_url else None


def pages_of(fake: FakeBugsink, next_cursor: Any) -> list[JsonResponse]:
    async def go() -> list[JsonResponse]:
        async with ApiClient(fake.base_url, fake.token, service="Bugsink", retry=FAST) as client:
            return [page async for page in paginate(client, PROJECTS, {"x": "1"}, next_cursor=next_cursor)]

    return asyncio.run(go())


def test_paginate_follows_the_cursor_on_the_own_base_url_until_there_is_none() -> None:
    with bugsink_with_projects(extra=2, page_size=1) as fake:
        pages = pages_of(fake, cursor_in_next)
        requests = list(fake.requests)
    assert [[p["slug"] for p in page.data["results"]] for page in pages] == [
        ["other-0"],
        ["other-1"],
        ["demo-app"],
    ]
    assert [r.path for r in requests] == ["/api/canonical/0/projects/"] * 3
    assert "cursor" not in requests[0].query
    assert all(r.query["x"] == ("1",) and "cursor" in r.query for r in requests[1:])
    assert len({r.query["cursor"] for r in requests[1:]}) == 2


def test_paginate_stops_on_a_cursor_that_comes_back_and_names_the_service() -> None:
    first: list[str | None] = []

    def stuck(page: JsonResponse) -> str | None:
        """A server whose cursor never advances: the first page's cursor, again and again."""
        first.append(cursor_in_next(page))
        return first[0]

    with bugsink_with_projects(extra=3, page_size=1) as fake:
        with pytest.raises(RemoteError, match="pagination loops") as caught:
            pages_of(fake, stuck)
        assert len(fake.requests) == 2  # the first page, then the cursor once: not a third time
    assert caught.value.service == "Bugsink"
    assert str(caught.value).startswith("Bugsink ")


def test_a_bugsink_project_named_by_slug_is_found_on_a_later_page(tmp_path: Path) -> None:
    with bugsink_with_projects(extra=2, page_size=1) as fake:
        report = pull_bugsink(settings_for(fake, "demo-app"), out=tmp_path, progress=False, retry=FAST)
        project_pages = [r for r in fake.requests if r.path == "/api/canonical/0/projects/"]
    assert len(project_pages) == 3
    assert report.issues == 3
    assert report.pages == 3  # one issue a page


def test_a_bugsink_pull_writes_exactly_what_storage_write_json_writes(tmp_path: Path) -> None:
    with bugsink_with_projects(extra=0, page_size=2) as fake:
        report = pull_bugsink(settings_for(fake), out=tmp_path, progress=False, retry=FAST)
    items = json.loads(report.path.read_text(encoding="utf-8"))
    reference = write_json(tmp_path / "reference.json", items)
    assert report.path.read_bytes() == reference.read_bytes()
    assert [item["issue"]["shortId"] for item in items] == ["DEMO-APP-2", "DEMO-APP-3", "DEMO-APP-1"]


def test_the_blocking_pulls_are_their_coroutines_run_to_the_end(tmp_path: Path) -> None:
    from selfheal.sources.bugsink import pull_bugsink_async
    from selfheal.sources.sentry_pull import pull_sentry, pull_sentry_async

    for blocking_pull, coroutine in ((pull_sentry, pull_sentry_async), (pull_bugsink, pull_bugsink_async)):
        assert blocking_pull.__name__ == coroutine.__name__.removesuffix("_async")
        assert inspect.signature(blocking_pull) == inspect.signature(coroutine)
        assert not inspect.iscoroutinefunction(blocking_pull)
        assert (coroutine.__doc__ or "").strip() in (blocking_pull.__doc__ or "")
        assert f"runs :func:`{coroutine.__name__}` to its end" in (blocking_pull.__doc__ or "")
    with bugsink_with_projects(extra=0, page_size=2) as fake:
        awaited = asyncio.run(
            pull_bugsink_async(settings_for(fake), out=tmp_path / "a", progress=False, retry=FAST)
        )
        blocked = pull_bugsink(settings_for(fake), out=tmp_path / "b", progress=False, retry=FAST)
    assert (awaited.issues, awaited.pages) == (blocked.issues, blocked.pages) == (3, 2)
    assert (tmp_path / "a" / "sentry_errors.json").read_bytes() == (
        tmp_path / "b" / "sentry_errors.json"
    ).read_bytes()
