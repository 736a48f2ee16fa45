"""`pull_sentry` against the fake Sentry over real sockets: complete, ordered, polite, robust."""

from __future__ import annotations

import asyncio
import json
import math
from pathlib import Path
from typing import Any

import pytest
import stamina

from selfheal.errors import ConfigError, RemoteError
from selfheal.settings import SentrySettings
from selfheal.sources._http import RetryPolicy
from selfheal.sources._pull import PullReport
from selfheal.sources.sentry_pull import SentryQuery, pull_sentry
from selfheal.storage import write_json
from selfheal.testing._server import RandomFaults
from selfheal.testing.fake_sentry import FakeSentry, synthetic_export

#: Short waits so the whole file stays fast; behaviour (not timing) is what these tests check.
FAST = RetryPolicy(
    attempts=6,
    total_timeout=20,
    wait_initial=0.01,
    wait_max=0.05,
    wait_jitter=0.01,
    max_rate_limit_wait=3.0,
    request_timeout=2.0,
)


def settings_for(fake: FakeSentry, **overrides: Any) -> SentrySettings:
    options: dict[str, Any] = {"org": fake.org, "base_url": fake.base_url, "token": fake.token, **overrides}
    return SentrySettings(**options)


def query_for(fake: FakeSentry, **options: Any) -> SentryQuery:
    """The query of a pull from ``fake`` with these options (the rest from its settings)."""
    return SentryQuery.from_options(settings_for(fake), **options)


def pulled(report: PullReport) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(report.path.read_text(encoding="utf-8"))
    return data


def issue_ids(report: PullReport) -> list[str]:
    return [item["issue"]["id"] for item in pulled(report)]


def assert_complete(report: PullReport, fake: FakeSentry) -> None:
    """Every issue once, in the server's order, each with its own latest event."""
    items = pulled(report)
    assert [item["issue"]["id"] for item in items] == fake.issue_ids()
    assert all(item["latestEvent"]["groupID"] == item["issue"]["id"] for item in items)
    assert report.events_missing == ()


@pytest.mark.slow  # 250 issues over the wire
def test_pages_through_every_issue_in_server_order(tmp_path: Path) -> None:
    with FakeSentry.synthetic(250) as fake:
        report = pull_sentry(
            settings_for(fake), query_for(fake, limit=None), out=tmp_path, progress=False, retry=FAST
        )
        assert_complete(report, fake)
        assert report.path == tmp_path / "sentry_errors.json"
        assert (report.issues, report.events_fetched, report.pages) == (250, 250, 3)
        pages = [r for r in fake.requests if r.is_issue_list_request]
        assert [r.query.get("cursor") for r in pages] == [None, ("0:100:0",), ("0:200:0",)]
        first = pages[0].query
        assert first["limit"] == ("100",)
        assert first["query"] == ("is:unresolved",)
        assert first["statsPeriod"] == ("14d",)
        assert first["environment"] == ("production",)
        assert first["sort"] == ("date",)
        assert report.requests == 253 == len(fake.requests)


@pytest.mark.slow  # two pulls of 250 issues
def test_limit_defaults_to_settings_and_stops_paging_early(tmp_path: Path) -> None:
    with FakeSentry.synthetic(250) as fake:
        report = pull_sentry(settings_for(fake), out=tmp_path, progress=False, retry=FAST)
        assert issue_ids(report) == fake.issue_ids()[:10]
        (page,) = [r for r in fake.requests if r.is_issue_list_request]
        assert page.query["limit"] == ("10",)
    with FakeSentry.synthetic(250) as fake:
        report = pull_sentry(
            settings_for(fake), query_for(fake, limit=150), out=tmp_path, progress=False, retry=FAST
        )
        assert issue_ids(report) == fake.issue_ids()[:150]
        assert report.pages == 2
        assert sum(r.is_event_request for r in fake.requests) == 150


@pytest.mark.slow  # 120 issues at a set latency
def test_concurrency_never_exceeds_the_servers_advertised_limit(tmp_path: Path) -> None:
    with FakeSentry.synthetic(120, latency=0.01, concurrent_limit=4) as fake:
        report = pull_sentry(
            settings_for(fake),
            query_for(fake, limit=None),
            out=tmp_path,
            concurrency=8,
            progress=False,
            retry=FAST,
        )
        assert_complete(report, fake)
        assert fake.max_in_flight <= 4
        assert report.max_in_flight <= 4
        assert all(r.status == 200 for r in fake.requests)  # never refused for concurrency


@pytest.mark.slow  # 120 issues at a set latency
def test_concurrency_uses_but_never_exceeds_the_callers_bound(tmp_path: Path) -> None:
    with FakeSentry.synthetic(120, latency=0.01, concurrent_limit=25) as fake:
        report = pull_sentry(
            settings_for(fake),
            query_for(fake, limit=None),
            out=tmp_path,
            concurrency=3,
            progress=False,
            retry=FAST,
        )
        assert_complete(report, fake)
        # Issue 15: was `== 3`, which needs three requests to coincide on a loaded machine. The fake's
        # in-flight counter shows the same property with bounds that cannot flake: requests overlap
        # (the bound is used) and never more than the caller allows.
        assert 2 <= fake.max_in_flight <= 3
        assert 2 <= report.max_in_flight <= 3


@pytest.mark.slow  # a slowed fake
def test_event_fetching_overlaps_page_fetching(tmp_path: Path) -> None:
    with FakeSentry.synthetic(300, latency=0.01) as fake:
        pull_sentry(settings_for(fake), query_for(fake, limit=None), out=tmp_path, progress=False, retry=FAST)
        log = fake.requests
        last_page = max(r.started for r in log if r.is_issue_list_request)
        first_page_done = min(r.finished for r in log if r.is_issue_list_request)
        events_before_last_page = [r for r in log if r.is_event_request and r.started < last_page]
        assert events_before_last_page
        assert all(r.started >= first_page_done for r in events_before_last_page)


@pytest.mark.slow  # 230 issues over the wire
def test_overlapping_pages_still_yield_each_issue_once(tmp_path: Path) -> None:
    with FakeSentry.synthetic(230, page_overlap=7) as fake:
        report = pull_sentry(
            settings_for(fake), query_for(fake, limit=None), out=tmp_path, progress=False, retry=FAST
        )
        assert_complete(report, fake)
        assert report.pages == 3
        assert sum(r.is_event_request for r in fake.requests) == 230


@pytest.mark.slow  # waits for the rate-limit window
def test_429_waits_until_the_reset_time(tmp_path: Path) -> None:
    with FakeSentry.synthetic(5) as fake:
        fake.inject("rate_limit", path="/events/", reset_in=0.3)
        report = pull_sentry(
            settings_for(fake), query_for(fake, limit=None), out=tmp_path, progress=False, retry=FAST
        )
        assert_complete(report, fake)
        log = fake.requests
        refused = next(r for r in log if r.status == 429)
        reset_at = math.ceil(refused.started + 0.3)  # whole epoch seconds, like Sentry
        retried = next(r for r in log if r.path == refused.path and r.started > refused.finished)
        assert retried.status == 200
        assert reset_at - 0.05 <= retried.started  # not before the window resets
        # Issue 15: the upper bound was `reset_at + 1.0` (wall clock, flaky under load). The request
        # log shows the retry is the very next request for that path, i.e. no extra attempt between,
        # and the pause is far from the next whole-second window.
        assert [r for r in log if r.path == refused.path] == [refused, retried]
        assert retried.started < reset_at + 5.0
        assert report.retries == 1


def test_429_prefers_retry_after_when_present(tmp_path: Path) -> None:
    with FakeSentry.synthetic(3, retry_after=0.2) as fake:
        fake.inject("rate_limit", path="/events/", reset_in=30)
        report = pull_sentry(
            settings_for(fake), query_for(fake, limit=None), out=tmp_path, progress=False, retry=FAST
        )
        assert_complete(report, fake)
        refused = next(r for r in fake.requests if r.status == 429)
        retried = next(r for r in fake.requests if r.path == refused.path and r.started > refused.finished)
        # Retry-After (0.2 s), not the 30 s Reset. Issue 15: the upper bound was 1.5 s of wall clock,
        # flaky on a loaded machine; half the Reset still tells the two apart and cannot flake.
        assert 0.15 <= retried.started - refused.finished < 15


def test_remaining_zero_pauses_until_the_window_resets(tmp_path: Path) -> None:
    with FakeSentry.synthetic(4, requests_per_window=3, window=0.5) as fake:
        report = pull_sentry(
            settings_for(fake),
            query_for(fake, limit=None),
            out=tmp_path,
            concurrency=1,
            progress=False,
            retry=FAST,
        )
        assert_complete(report, fake)
        assert [r.status for r in fake.requests] == [200] * 5  # paused instead of hitting 429


@pytest.mark.slow  # 220 issues through random faults and timeouts
def test_faults_everywhere_still_give_every_issue_once_with_its_event(tmp_path: Path) -> None:
    faults = RandomFaults(error_rate=0.10, timeout_rate=0.03, disconnect_rate=0.01, seed=7)
    policy = RetryPolicy(
        attempts=8, total_timeout=20, wait_initial=0.01, wait_max=0.05, wait_jitter=0.01, request_timeout=0.4
    )
    with FakeSentry.synthetic(220, faults=faults, slow_seconds=1.0) as fake:
        fake.inject("truncate", path="/events/")
        fake.inject("truncate", path="/issues/", count=1)
        report = pull_sentry(
            settings_for(fake), query_for(fake, limit=None), out=tmp_path, progress=False, retry=policy
        )
        assert_complete(report, fake)
        assert fake.wait_idle()
        faulted = [r.fault for r in fake.requests if r.fault]
        assert {"error", "timeout", "truncate"} <= set(faulted)
        assert report.retries == len(faulted)
        assert report.issues == 220


def test_an_event_that_keeps_failing_is_null_counted_and_reported(tmp_path: Path) -> None:
    with FakeSentry.synthetic(6) as fake:
        fake.inject("error", path="/issues/1003/events/", count=100, status=503)
        report = pull_sentry(
            settings_for(fake), query_for(fake, limit=None), out=tmp_path, progress=False, retry=FAST
        )
        items = pulled(report)
        assert [item["issue"]["id"] for item in items] == fake.issue_ids()
        assert report.events_missing == ("1003",)
        assert report.events_fetched == 5
        assert next(item for item in items if item["issue"]["id"] == "1003")["latestEvent"] is None
        assert sum("/issues/1003/" in r.path for r in fake.requests) == FAST.attempts
        assert "1 missing (1003)" in report.summary()


def test_other_4xx_are_never_retried(tmp_path: Path) -> None:
    with FakeSentry.synthetic(3) as fake, stamina.set_testing(True, attempts=5):
        fake.inject("error", path="/issues/1002/events/", status=400)
        report = pull_sentry(settings_for(fake), query_for(fake, limit=None), out=tmp_path, progress=False)
        assert report.events_missing == ("1002",)
        assert sum("/issues/1002/" in r.path for r in fake.requests) == 1
    with FakeSentry.synthetic(2) as fake:
        fake.items[1]["latestEvent"] = None  # the server has no event for it: 404
        report = pull_sentry(
            settings_for(fake), query_for(fake, limit=None), out=tmp_path, progress=False, retry=FAST
        )
        assert report.events_missing == ("1002",)
        assert sum("/issues/1002/" in r.path for r in fake.requests) == 1


def test_a_body_that_stays_broken_is_retried_once_then_a_clear_error(tmp_path: Path) -> None:
    with FakeSentry.synthetic(3) as fake:
        fake.inject("truncate", path="/issues/", count=2)
        with pytest.raises(RemoteError, match="not valid JSON twice") as caught:
            pull_sentry(
                settings_for(fake), query_for(fake, limit=None), out=tmp_path, progress=False, retry=FAST
            )
        assert caught.value.service == "Sentry"
        assert len(fake.requests) == 2
        assert "/api/0/organizations/acme/issues/" in str(caught.value)
        assert not (tmp_path / "sentry_errors.json").exists()


@pytest.mark.slow  # 130 issues over the wire
def test_works_without_rate_limit_headers_like_self_hosted(tmp_path: Path) -> None:
    with FakeSentry.synthetic(130, rate_limit_headers=False, concurrent_limit=100) as fake:
        fake.inject("rate_limit", path="/events/")  # a bare 429: plain backoff
        report = pull_sentry(
            settings_for(fake), query_for(fake, limit=None), out=tmp_path, progress=False, retry=FAST
        )
        assert_complete(report, fake)
        assert report.retries == 1


def test_401_says_the_token_was_rejected_without_showing_it(tmp_path: Path) -> None:
    with FakeSentry.synthetic(3) as fake:
        secret = "sntryu_" + "b" * 40
        with pytest.raises(RemoteError) as caught:
            pull_sentry(settings_for(fake, token=secret), out=tmp_path, progress=False, retry=FAST)
        message = str(caught.value)
        assert caught.value.status == 401
        assert caught.value.service == "Sentry"
        assert message.startswith("Sentry HTTP 401 ")
        assert "rejected the token" in message
        assert "SENTRY_AUTH_TOKEN" in message
        assert "event:read, project:read, org:read" in message
        assert secret not in message
        assert secret not in repr(caught.value)
        assert "\n" not in message
        assert len(fake.requests) == 1  # never retried


def test_403_names_the_missing_scope(tmp_path: Path) -> None:
    with FakeSentry.synthetic(3, denied_scopes={"event:read"}) as fake:
        with pytest.raises(RemoteError, match="lacks the event:read scope") as caught:
            pull_sentry(settings_for(fake), out=tmp_path, progress=False, retry=FAST)
        assert caught.value.status == 403
        assert caught.value.service == "Sentry"
        assert fake.token not in str(caught.value)


@pytest.mark.slow  # 150 issues over the wire
def test_self_hosted_base_url_with_a_path(tmp_path: Path) -> None:
    with FakeSentry.synthetic(150, path_prefix="/tools/sentry") as fake:
        report = pull_sentry(
            settings_for(fake), query_for(fake, limit=None), out=tmp_path, progress=False, retry=FAST
        )
        assert_complete(report, fake)
        assert all(r.path.startswith("/tools/sentry/api/0/") for r in fake.requests)


@pytest.mark.slow  # 150 issues over the wire
def test_link_urls_naming_another_host_are_not_followed_with_the_token(tmp_path: Path) -> None:
    # A region host or a proxy: Sentry's Link header names the address it believes it has.
    with FakeSentry.synthetic(150, public_url="https://de.sentry.io") as fake:
        report = pull_sentry(
            settings_for(fake), query_for(fake, limit=None), out=tmp_path, progress=False, retry=FAST
        )
        assert_complete(report, fake)
        assert report.pages == 2  # the cursor was followed, on our own base URL


def test_projects_environment_and_time_range_are_sent(tmp_path: Path) -> None:
    with FakeSentry.synthetic(5) as fake:
        settings = settings_for(fake, projects=("ignored-by-override",))
        query = SentryQuery.from_options(
            settings,
            limit=None,
            projects=("pump-station", "42"),
            environment="",
            since="2026-11-01T00:00:00Z",
            until="2026-11-08",
            sort="freq",
            group_stats_period="24h",
        )
        pull_sentry(settings, query, out=tmp_path / "x.json", progress=False, retry=FAST)
        assert (tmp_path / "x.json").exists()
        page = fake.requests[0].query
        assert page["project"] == ("pump-station", "42")
        assert "environment" not in page
        assert "statsPeriod" not in page
        assert (page["start"], page["end"]) == (("2026-11-01T00:00:00",), ("2026-11-08T00:00:00",))
        assert page["sort"] == ("freq",)
        assert page["groupStatsPeriod"] == ("24h",)
        assert all("environment" not in r.query for r in fake.requests)


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"limit": -1}, "--limit"),
        ({"limit": 0}, "--limit"),  # one encoding in the library: None = every issue
        ({"concurrency": 0}, "--concurrency"),
        ({"since": "last tuesday"}, "--since"),
        ({"until": "2026-11-08"}, "--until"),
    ],
)
def test_bad_options_are_config_errors(tmp_path: Path, options: dict[str, Any], problem: str) -> None:
    settings = SentrySettings(org="acme", base_url="http://127.0.0.1:9", token="t")
    concurrency = options.get("concurrency", 8)  # a pull option; the others make the query
    query_options = {name: value for name, value in options.items() if name != "concurrency"}
    with pytest.raises(ConfigError, match=problem):
        pull_sentry(
            settings,
            SentryQuery.from_options(settings, **query_options),
            out=tmp_path,
            concurrency=concurrency,
            progress=False,
        )


def test_unreachable_server_is_one_clear_error(tmp_path: Path) -> None:
    with FakeSentry.synthetic(1) as fake:
        base_url = fake.base_url
    settings = SentrySettings(org="acme", base_url=base_url, token="secret-token-value")
    with pytest.raises(RemoteError, match="cannot reach Sentry") as caught:
        pull_sentry(settings, out=tmp_path, progress=False, retry=FAST)
    assert "secret-token-value" not in str(caught.value)


def test_pull_works_inside_a_running_event_loop_like_a_notebook(tmp_path: Path) -> None:
    with FakeSentry.synthetic(12) as fake:

        async def notebook_cell() -> PullReport:
            return pull_sentry(
                settings_for(fake), query_for(fake, limit=None), out=tmp_path, progress=False, retry=FAST
            )

        report = asyncio.run(notebook_cell())
        assert_complete(report, fake)


def test_progress_bar_when_asked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FakeSentry.synthetic(30) as fake:
        report = pull_sentry(
            settings_for(fake), query_for(fake, limit=None), out=tmp_path, progress=True, retry=FAST
        )
        assert_complete(report, fake)
    err = capsys.readouterr().err
    assert "latest events" in err
    assert "30/30" in err


def test_in_process_transport_needs_no_sockets(tmp_path: Path) -> None:
    fake = FakeSentry.synthetic(150, latency=0.001)
    settings = SentrySettings(org="acme", base_url="http://sentry.invalid", token=fake.token)
    report = pull_sentry(
        settings,
        SentryQuery.from_options(settings, limit=None),
        out=tmp_path,
        progress=False,
        retry=FAST,
        transport=fake.transport(),
    )
    assert_complete(report, fake)


def test_the_bundled_example_export_round_trips(tmp_path: Path) -> None:
    fixtures = Path(__file__).parent / "fixtures" / "sentry_api"
    issue = json.loads((fixtures / "sentry_docs_example_org_issues_list.json").read_text())["response_body"][
        0
    ]
    event = json.loads((fixtures / "sentry_docs_example_issue_event_detail.json").read_text())[
        "response_body"
    ]
    export = [{"issue": issue, "latestEvent": event}]
    with FakeSentry.from_export(export, token="dummy") as fake:
        report = pull_sentry(
            settings_for(fake), query_for(fake, query=""), out=tmp_path, progress=False, retry=FAST
        )
        assert pulled(report) == export  # exactly as the API returned them


@pytest.mark.slow  # 150 issues over the wire
def test_output_is_byte_for_byte_what_storage_write_json_writes(tmp_path: Path) -> None:
    export = synthetic_export(130)
    export[3]["issue"]["title"] = 'UnicodeError: café ☕ line\nbreak "quoted"'
    export[5]["latestEvent"] = None  # a missing event is encoded too
    with FakeSentry(export) as fake:
        report = pull_sentry(
            settings_for(fake), query_for(fake, limit=None), out=tmp_path, progress=False, retry=FAST
        )
    reference = write_json(tmp_path / "reference.json", pulled(report))
    assert report.path.read_bytes() == reference.read_bytes()
    with FakeSentry([]) as fake:
        empty = pull_sentry(
            settings_for(fake),
            query_for(fake, limit=None),
            out=tmp_path / "empty",
            progress=False,
            retry=FAST,
        )
    assert empty.path.read_text(encoding="utf-8") == "[]\n"
    assert empty.pages == 1


def test_a_server_whose_cursor_never_advances_is_an_error_not_a_hang(tmp_path: Path) -> None:
    with FakeSentry.synthetic(250, page_overlap=100) as fake:
        with pytest.raises(RemoteError, match="pagination loops") as caught:
            pull_sentry(
                settings_for(fake), query_for(fake, limit=None), out=tmp_path, progress=False, retry=FAST
            )
        assert caught.value.service == "Sentry"
        assert sum(r.is_issue_list_request for r in fake.requests) == 2
