"""The fake Sentry behaves like the documented API (shapes, Link pagination, rate-limit headers,
auth, faults), over real sockets and in-process."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from selfheal.errors import InputError
from selfheal.testing.fake_sentry import FakeSentry, synthetic_export

FIXTURES = Path(__file__).parent / "fixtures" / "sentry_api"
TOKEN = "fake-sentry-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
LINK = re.compile(
    r'^<(?P<url>[^>]+)>; rel="(?P<rel>previous|next)"; '
    r'results="(?P<results>true|false)"; cursor="(?P<cursor>[^"]+)"$'
)


def _documented(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))["response_body"]


def _docs_export() -> list[dict[str, Any]]:
    issue = _documented("sentry_docs_example_org_issues_list.json")[0]
    event = _documented("sentry_docs_example_issue_event_detail.json")
    return [{"issue": issue, "latestEvent": event}]


def test_serves_the_documented_issue_and_event_verbatim() -> None:
    issue = _documented("sentry_docs_example_org_issues_list.json")[0]
    event = _documented("sentry_docs_example_issue_event_detail.json")
    with (
        FakeSentry.from_export(_docs_export()) as fake,
        httpx.Client(base_url=fake.base_url, headers=AUTH) as client,
    ):
        # The documented issue is "ignored": Sentry's default query is:unresolved hides it.
        assert client.get("/api/0/organizations/acme/issues/").json() == []
        listed = client.get("/api/0/organizations/acme/issues/", params={"query": "is:ignored"})
        assert listed.json() == [issue]
        latest = client.get("/api/0/organizations/acme/issues/1/events/latest/")
        assert latest.json() == event
        legacy = client.get("/api/0/issues/1/events/latest/")
        assert legacy.json() == event
        assert client.get("/api/0/organizations/acme/issues/1/").json() == issue


def test_export_file_is_served_and_bad_exports_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "sentry_errors.json"
    path.write_text(json.dumps(synthetic_export(3)), encoding="utf-8")
    with FakeSentry.from_export(path) as fake:
        assert fake.issue_ids() == ["1001", "1002", "1003"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"latestEvent": None}]), encoding="utf-8")
    with pytest.raises(InputError, match="item 0 has no issue"):
        FakeSentry.from_export(bad)
    with pytest.raises(InputError, match="expected a JSON list"):
        FakeSentry.from_export({"issue": {}})  # type: ignore[arg-type]


def test_link_header_paginates_exactly_like_sentry() -> None:
    with FakeSentry.synthetic(250) as fake, httpx.Client(headers=AUTH) as client:
        url: str | None = f"{fake.base_url}/api/0/organizations/acme/issues/?query=is%3Aunresolved&limit=100"
        seen: list[str] = []
        headers: list[str] = []
        while url:
            response = client.get(url)
            seen += [issue["id"] for issue in response.json()]
            headers.append(response.headers["Link"])
            links = {
                m["rel"]: m for m in (LINK.match(part) for part in response.headers["Link"].split(", ")) if m
            }
            assert set(links) == {"previous", "next"}
            assert links["next"]["url"].endswith(f"&cursor={links['next']['cursor']}")
            assert links["next"]["url"].startswith(f"{fake.base_url}/api/0/organizations/acme/issues/?")
            url = links["next"]["url"] if links["next"]["results"] == "true" else None
        assert seen == fake.issue_ids()
        assert len(headers) == 3
        assert 'rel="previous"; results="false"; cursor="0:0:1"' in headers[0]
        assert 'rel="next"; results="true"; cursor="0:100:0"' in headers[0]
        assert 'rel="next"; results="false"' in headers[2]
        assert response.headers["X-Hits"] == "250"


def test_rate_limit_headers_are_sent_unless_self_hosted() -> None:
    with FakeSentry.synthetic(1, concurrent_limit=7, requests_per_window=40) as fake:
        response = httpx.get(f"{fake.base_url}/api/0/organizations/acme/issues/", headers=AUTH)
        assert response.headers["X-Sentry-Rate-Limit-Limit"] == "40"
        assert response.headers["X-Sentry-Rate-Limit-Remaining"] == "39"
        assert response.headers["X-Sentry-Rate-Limit-ConcurrentLimit"] == "7"
        assert int(response.headers["X-Sentry-Rate-Limit-Reset"]) > 0
    with FakeSentry.synthetic(1, rate_limit_headers=False) as fake:
        response = httpx.get(f"{fake.base_url}/api/0/organizations/acme/issues/", headers=AUTH)
        assert response.status_code == 200
        assert not [name for name in response.headers if name.lower().startswith("x-sentry-rate-limit")]


def test_a_spent_window_answers_429_with_sentrys_message() -> None:
    with (
        FakeSentry.synthetic(1, requests_per_window=2, window=30) as fake,
        httpx.Client(headers=AUTH) as client,
    ):
        url = f"{fake.base_url}/api/0/organizations/acme/issues/"
        assert [client.get(url).status_code for _ in range(3)] == [200, 200, 429]
        refused = client.get(url)
        assert refused.json().startswith("You are attempting to use this endpoint too frequently")
        assert refused.headers["X-Sentry-Rate-Limit-Remaining"] == "0"
        assert "Retry-After" not in refused.headers


def test_auth_is_checked_and_denied_scopes_answer_403() -> None:
    with FakeSentry.synthetic(1) as fake:
        url = f"{fake.base_url}/api/0/organizations/acme/issues/"
        assert httpx.get(url).status_code == 401
        assert httpx.get(url, headers={"Authorization": "Bearer nope"}).json() == {"detail": "Invalid token"}
    with FakeSentry.synthetic(1, denied_scopes={"event:read"}) as fake:
        url = f"{fake.base_url}/api/0/organizations/acme/issues/"
        assert httpx.get(url, headers=AUTH).status_code == 403
        assert [r.status for r in fake.requests] == [403]


def test_in_flight_is_counted_and_the_concurrent_limit_answers_429() -> None:
    with FakeSentry.synthetic(1, latency=0.5, concurrent_limit=2) as fake:
        url = f"{fake.base_url}/api/0/organizations/acme/issues/"
        statuses: list[int] = []

        def get() -> None:
            statuses.append(httpx.get(url, headers=AUTH).status_code)

        threads = [threading.Thread(target=get) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # Two are served slowly; the others are refused at once (and counted while refused).
        assert sorted(statuses) == [200, 200, 429, 429]
        assert fake.max_in_flight >= 3


def test_scripted_faults_truncate_disconnect_and_fail() -> None:
    with FakeSentry.synthetic(1) as fake, httpx.Client(base_url=fake.base_url, headers=AUTH) as client:
        url = "/api/0/organizations/acme/issues/"
        fake.inject("truncate")
        broken = client.get(url)
        assert broken.status_code == 200
        assert int(broken.headers["Content-Length"]) == len(broken.content)
        with pytest.raises(json.JSONDecodeError):
            json.loads(broken.content)
        fake.inject("error", status=502, path="/events/")
        assert client.get(url).status_code == 200  # not an events path: untouched
        assert client.get(f"{url}1001/events/latest/").status_code == 502
        fake.inject("disconnect")
        with pytest.raises(httpx.RemoteProtocolError):
            client.get(url)
        assert client.get(url).status_code == 200
        assert [r.fault for r in fake.requests] == ["truncate", None, "error", "disconnect", None]


def test_slow_answers_make_clients_time_out() -> None:
    with FakeSentry.synthetic(1, slow_seconds=1.0) as fake:
        fake.inject("timeout")
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(f"{fake.base_url}/api/0/organizations/acme/issues/", headers=AUTH, timeout=0.2)


def test_path_prefix_serves_a_self_hosted_base_url() -> None:
    with FakeSentry.synthetic(2, path_prefix="/sentry/") as fake:
        assert fake.base_url.endswith("/sentry")
        response = httpx.get(f"{fake.base_url}/api/0/organizations/acme/issues/", headers=AUTH)
        assert [issue["id"] for issue in response.json()] == ["1001", "1002"]
        assert "/sentry/api/0/organizations/acme/issues/?" in response.headers["Link"]
        outside = httpx.get(f"http://127.0.0.1:{fake.port}/api/0/organizations/acme/issues/", headers=AUTH)
        assert outside.status_code == 404


def test_request_log_records_paths_and_query() -> None:
    with FakeSentry.synthetic(3) as fake:
        httpx.get(
            f"{fake.base_url}/api/0/organizations/acme/issues/",
            params=[("project", "a"), ("project", "b"), ("statsPeriod", "14d")],
            headers=AUTH,
        )
        (entry,) = fake.requests
        assert entry.path == "/api/0/organizations/acme/issues/"
        assert entry.query["project"] == ("a", "b")
        assert entry.query["statsPeriod"] == ("14d",)
        assert entry.is_issue_list_request
        assert entry.authorization == f"Bearer {TOKEN}"


def test_in_process_transport_answers_like_the_server() -> None:
    fake = FakeSentry.synthetic(120)

    async def fetch() -> tuple[list[str], str]:
        async with httpx.AsyncClient(
            transport=fake.transport(), base_url="http://fake", headers=AUTH
        ) as client:
            response = await client.get("/api/0/organizations/acme/issues/")
            return [issue["id"] for issue in response.json()], response.headers["Link"]

    ids, link = asyncio.run(fetch())
    assert ids == fake.issue_ids()[:100]
    assert 'rel="next"; results="true"; cursor="0:100:0"' in link
    assert len(fake.requests) == 1


def test_module_runs_as_a_standalone_server() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "selfheal.testing.fake_sentry", "--synthetic", "5"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:")
        response = httpx.get(f"{base_url}/api/0/organizations/acme/issues/", headers=AUTH)
        assert len(response.json()) == 5
    finally:
        assert process.stdin is not None
        process.stdin.close()
        assert process.wait(timeout=10) == 0
        if process.stdout is not None:
            process.stdout.close()
