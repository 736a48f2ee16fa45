"""The Bugsink source against a fake serving responses captured from a real Bugsink 2.6.2:
mapped into Sentry's shapes so the Sentry parser and everything downstream read it unchanged."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from selfheal.cli import build_parser, main
from selfheal.errors import ConfigError, RemoteError, SentryError
from selfheal.settings import BugsinkSettings
from selfheal.sources._http import RetryPolicy
from selfheal.sources.bugsink import (
    STATES,
    BugsinkQuery,
    pull_bugsink,
    sentry_event_from_bugsink,
    sentry_issue_from_bugsink,
)
from selfheal.sources.sentry_export import parse_sentry_export
from selfheal.testing.fake_bugsink import FakeBugsink

FIXTURES = Path(__file__).parent / "fixtures" / "bugsink"
FAST = RetryPolicy(wait_initial=0.01, wait_max=0.05, wait_jitter=0.01, request_timeout=2.0)
KEYERROR_ISSUE = "2b3fc693-af4c-4751-b231-b08b972947a8"


def captured(name: str) -> Any:
    return json.loads((FIXTURES / f"bugsink_captured_{name}.json").read_text(encoding="utf-8"))[
        "response_body"
    ]


def derived_event(
    template: dict[str, Any], issue: dict[str, Any], number: int, function: str
) -> dict[str, Any]:
    """An event for an issue we only captured as a list entry: the KeyError event, retargeted."""
    event = copy.deepcopy(template)
    event["id"] = f"00000000-0000-4000-8000-{number:012d}"
    event["issue"] = issue["id"]
    event["digest_order"] = 1
    event["data"]["event_id"] = f"{number:032x}"
    (exception,) = event["data"]["exception"]["values"]
    exception["type"], exception["value"] = issue["calculated_type"], issue["calculated_value"]
    exception["stacktrace"]["frames"][-1]["function"] = function
    return event


def captured_data() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    projects = captured("projects_list")["results"]
    issues = captured("issues_list")["results"]
    detail = captured("issue_detail")  # DEMO-APP-2 after its second event
    issues = [detail if issue["id"] == detail["id"] else issue for issue in issues]
    first = captured("event_detail_keyerror")
    second = captured("event_detail_keyerror_with_tags_user")
    events = [
        first,
        second,
        derived_event(first, issues[0], 1, "parse_price"),
        derived_event(first, issues[2], 3, "average"),
    ]
    return projects, issues, events


def fake_bugsink(**options: Any) -> FakeBugsink:
    projects, issues, events = captured_data()
    return FakeBugsink(projects=projects, issues=issues, events=events, **options)


def settings_for(fake: FakeBugsink, project: str = "1") -> BugsinkSettings:
    return BugsinkSettings(base_url=fake.base_url, project=project, token=fake.token)


def pulled(path: Path) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_event_maps_to_sentrys_event_shape() -> None:
    issue = captured("issue_detail")
    event = sentry_event_from_bugsink(captured("event_detail_keyerror_with_tags_user"), issue)
    assert event["eventID"] == event["id"] == "147437ea0aea46b8b91494e96adb7ac3"
    assert event["groupID"] == KEYERROR_ISSUE
    assert event["projectID"] == "1"
    assert event["title"] == "KeyError: 'email'"
    assert event["dateCreated"] == "2026-11-24T06:39:38.261780Z"
    (entry,) = [e for e in event["entries"] if e["type"] == "exception"]
    (value,) = entry["data"]["values"]
    assert (value["type"], value["value"]) == ("KeyError", "'email'")
    assert value["mechanism"] == {"type": "generic", "handled": True}
    crash = value["stacktrace"]["frames"][-1]  # oldest first, crashing frame last, like Sentry
    assert crash["absPath"] == "/srv/app/send_errors2.py"
    assert (crash["filename"], crash["function"], crash["lineNo"]) == (
        "send_errors2.py",
        "get_user_email",
        15,
    )
    assert crash["inApp"] is None  # the SDK did not say; Bugsink stores what it got
    assert crash["context"][0] == [10, "def parse_price(raw):"]
    assert [15, '    return user["email"]'] in crash["context"]
    assert crash["context"][-1] == [20, ""]
    assert crash["vars"] == {"user": {"name": "'bob'"}}
    tags = {tag["key"]: tag["value"] for tag in event["tags"]}
    assert tags == {
        "component": "billing",
        "environment": "ci",
        "release": "demo-app@1.0.1",
        "level": "error",
        "server_name": "vm",
        "handled": "yes",
    }
    assert event["user"] == {"id": "42"}
    assert event["release"] == {"version": "demo-app@1.0.1"}
    assert event["sdk"]["name"] == "sentry.python"
    assert event["contexts"]["runtime"]["name"] == "CPython"


def test_issue_maps_to_sentrys_issue_shape() -> None:
    issue = captured("issue_detail")
    project = captured("projects_list")["results"][0]
    data = captured("event_detail_keyerror_with_tags_user")["data"]
    mapped = sentry_issue_from_bugsink(issue, data, project)
    assert mapped["id"] == KEYERROR_ISSUE
    assert mapped["shortId"] == "DEMO-APP-2"
    assert mapped["title"] == "KeyError: 'email'"
    assert mapped["count"] == "2"  # a string, like Sentry's
    assert mapped["culprit"] == "__main__ in get_user_email"
    assert mapped["metadata"] == {
        "type": "KeyError",
        "value": "'email'",
        "filename": "send_errors2.py",
        "function": "get_user_email",
        "origin": "bugsink",
    }
    assert (mapped["firstSeen"], mapped["lastSeen"]) == (issue["first_seen"], issue["last_seen"])
    assert mapped["level"] == "error"
    assert mapped["status"] == "unresolved"
    assert mapped["isUnhandled"] is False
    assert mapped["project"] == {"id": "1", "name": "demo-app", "slug": "demo-app", "platform": "python"}


def test_mapping_handles_sdk_variants() -> None:
    issue = {"id": "u-1", "calculated_type": "", "calculated_value": "", "project": 3, "is_muted": True}
    event = {
        "id": "e-1",
        "issue": "u-1",
        "project": 3,
        "data": {
            "event_id": "ab" * 16,
            "timestamp": 1_700_000_000.5,
            "logentry": {"formatted": "payment failed for order 7"},
            "tags": [["shard", "eu"]],
            "request": {
                "url": "https://shop/checkout",
                "method": "POST",
                "query_string": "a=1&b=2",
                "headers": {"X": "y"},
            },
            "exception": [{"type": "RuntimeError", "value": "boom", "mechanism": {"handled": False}}],
        },
    }
    mapped = sentry_event_from_bugsink(event, issue)
    assert mapped["dateCreated"] == "2023-11-14T22:13:20.500000Z"
    assert mapped["message"] == "payment failed for order 7"
    assert {"key": "shard", "value": "eu"} in mapped["tags"]
    assert {"key": "handled", "value": "no"} in mapped["tags"]
    request = next(e for e in mapped["entries"] if e["type"] == "request")["data"]
    assert request["query"] == [["a", "1"], ["b", "2"]]
    assert request["headers"] == [["X", "y"]]
    assert mapped["title"] == "RuntimeError: boom"
    sentry_issue = sentry_issue_from_bugsink(issue, event["data"], {})
    assert sentry_issue["status"] == "ignored"
    assert sentry_issue["title"] == "payment failed for order 7"
    assert sentry_issue["isUnhandled"] is True
    assert sentry_issue["project"]["id"] == "3"


def test_pull_writes_sentry_shaped_items_newest_first(tmp_path: Path) -> None:
    with fake_bugsink() as fake:
        report = pull_bugsink(settings_for(fake), out=tmp_path, progress=False, retry=FAST)
        items = pulled(tmp_path / "sentry_errors.json")
        assert [item["issue"]["shortId"] for item in items] == ["DEMO-APP-2", "DEMO-APP-3", "DEMO-APP-1"]
        assert report.events_missing == ()
        assert (report.issues, report.events_fetched, report.source) == (3, 3, "Bugsink")
        keyerror = items[0]
        assert keyerror["latestEvent"]["eventID"] == "147437ea0aea46b8b91494e96adb7ac3"  # the newer one
        assert all(item["latestEvent"]["groupID"] == item["issue"]["id"] for item in items)
        listing = fake.requests[1]
        assert listing.path == "/api/canonical/0/issues/"
        assert listing.query == {
            "project": ("1",),
            "state": ("open",),
            "sort": ("last_seen",),
            "order": ("desc",),
        }
        events = [r for r in fake.requests if r.path == "/api/canonical/0/events/"]
        assert sorted(r.query["issue"][0] for r in events) == sorted(item["issue"]["id"] for item in items)
        assert report.requests == 1 + 1 + 3 * 2  # project, issues page, (event list + detail) x 3
        assert "pulled 3 issues from Bugsink" in report.summary()


def test_the_sentry_parser_reads_a_bugsink_pull_unchanged(tmp_path: Path) -> None:
    with fake_bugsink() as fake:
        report = pull_bugsink(settings_for(fake), out=tmp_path, progress=False, retry=FAST)
    failures = parse_sentry_export(pulled(report.path), report.path)
    by_type = {failure.exception_type: failure for failure in failures}
    assert set(by_type) == {"KeyError", "ValueError", "ZeroDivisionError"}
    keyerror = by_type["KeyError"]
    assert keyerror.message == "'email'"
    assert keyerror.count == 2
    assert keyerror.environment == "ci"
    assert keyerror.release == "demo-app@1.0.1"
    assert keyerror.frames[0].function == "get_user_email"  # crash frame first
    assert keyerror.frames[0].lineno == 15
    assert keyerror.frames[0].in_app  # /srv/app is not vendor code


def test_pages_follow_the_cursor_in_next(tmp_path: Path) -> None:
    projects, issues, events = captured_data()
    many = []
    for number in range(7):
        issue = copy.deepcopy(issues[number % 3])
        issue["id"] = f"10000000-0000-4000-8000-{number:012d}"
        issue["friendly_id"] = f"DEMO-APP-{10 + number}"
        issue["last_seen"] = f"2026-11-24T07:{50 - number:02d}:00Z"
        many.append(issue)
        events.append(derived_event(events[0], issue, 100 + number, f"handler_{number}"))
    with FakeBugsink(projects=projects, issues=many, events=events, page_size=3) as fake:
        report = pull_bugsink(settings_for(fake), out=tmp_path, progress=False, retry=FAST)
        assert [item["issue"]["shortId"] for item in pulled(report.path)] == [i["friendly_id"] for i in many]
        assert report.pages == 3
        pages = [r for r in fake.requests if r.path == "/api/canonical/0/issues/"]
        assert "cursor" not in pages[0].query
        assert all("cursor" in page.query and page.query["project"] == ("1",) for page in pages[1:])
    with FakeBugsink(projects=projects, issues=many, events=events, page_size=3) as fake:
        report = pull_bugsink(
            settings_for(fake), BugsinkQuery(limit=4), out=tmp_path, progress=False, retry=FAST
        )
        assert report.issues == 4
        assert report.pages == 2


def test_the_query_sends_state_and_search_and_is_checked_when_made(tmp_path: Path) -> None:
    with fake_bugsink() as fake:
        wanted = BugsinkQuery(state="resolved", query="tag:browser=Chrome")
        pull_bugsink(settings_for(fake), wanted, out=tmp_path, progress=False, retry=FAST)
        listing = next(r for r in fake.requests if r.path == "/api/canonical/0/issues/")
        assert (listing.query["state"], listing.query["q"]) == (("resolved",), ("tag:browser=Chrome",))
    with pytest.raises(ConfigError, match="--state: must be one of open, unresolved, resolved, muted, all"):
        BugsinkQuery(state="closed")
    with pytest.raises(ConfigError):
        BugsinkQuery(limit=-1)
    parser = build_parser()
    for state in STATES:  # every state the pull takes is one the command takes, and no other
        assert parser.parse_args(["pull", "bugsink", "--state", state]).state == state
    with pytest.raises(SystemExit):
        parser.parse_args(["pull", "bugsink", "--state", "closed"])


def test_project_can_be_named_by_slug(tmp_path: Path) -> None:
    with fake_bugsink() as fake:
        report = pull_bugsink(settings_for(fake, "demo-app"), out=tmp_path, progress=False, retry=FAST)
        assert report.issues == 3
        assert fake.requests[0].path == "/api/canonical/0/projects/"
        with pytest.raises(ConfigError, match="no Bugsink project with id, slug or name 'nope'"):
            pull_bugsink(settings_for(fake, "nope"), out=tmp_path, progress=False, retry=FAST)


def test_an_issue_without_events_keeps_latest_event_null(tmp_path: Path) -> None:
    projects, issues, events = captured_data()
    events = [event for event in events if event["issue"] != issues[0]["id"]]
    with FakeBugsink(projects=projects, issues=issues, events=events) as fake:
        report = pull_bugsink(settings_for(fake), out=tmp_path, progress=False, retry=FAST)
    assert report.events_missing == (issues[0]["id"],)
    missing = next(item for item in pulled(report.path) if item["issue"]["id"] == issues[0]["id"])
    assert missing["latestEvent"] is None
    assert missing["issue"]["title"] == "ValueError: could not convert string to float: '12,50 EUR'"


def test_faults_are_retried_through_the_shared_http_layer(tmp_path: Path) -> None:
    with fake_bugsink() as fake:
        fake.inject("error", status=502, path="/events/", count=3)
        fake.inject("truncate", path="/issues/")
        report = pull_bugsink(settings_for(fake), out=tmp_path, progress=False, retry=FAST)
        assert report.events_missing == ()
        assert report.retries == 4


def test_a_rejected_token_names_bugsink_token_and_never_shows_it(tmp_path: Path) -> None:
    with fake_bugsink() as fake:
        secret = "f" * 40
        settings = BugsinkSettings(base_url=fake.base_url, project="1", token=secret)
        with pytest.raises(RemoteError, match="Bugsink rejected the token") as caught:
            pull_bugsink(settings, out=tmp_path, progress=False, retry=FAST)
    assert caught.value.status == 401
    assert "BUGSINK_TOKEN" in str(caught.value)
    assert secret not in str(caught.value)


def test_a_bugsink_failure_is_named_after_bugsink_not_sentry(tmp_path: Path) -> None:
    """Issue 15: the shared HTTP layer said `Sentry HTTP 401 …: Bugsink rejected the token`."""
    with fake_bugsink() as fake:
        settings = BugsinkSettings(base_url=fake.base_url, project="1", token="not-the-token")
        with pytest.raises(RemoteError) as caught:
            pull_bugsink(settings, out=tmp_path, progress=False, retry=FAST)
    assert str(caught.value).startswith("Bugsink HTTP 401 ")
    assert caught.value.service == "Bugsink"
    assert not isinstance(caught.value, SentryError)
    assert "Sentry" not in str(caught.value)


def test_pull_bugsink_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with fake_bugsink(path_prefix="/bugsink") as fake:
        monkeypatch.setenv("BUGSINK_BASE_URL", fake.base_url)
        monkeypatch.setenv("BUGSINK_TOKEN", fake.token)
        monkeypatch.setenv("BUGSINK_PROJECT", "1")
        assert main(["pull", "bugsink", "--out", str(tmp_path), "--no-progress", "--limit", "2"]) == 0
    assert len(pulled(tmp_path / "sentry_errors.json")) == 2
    err = capsys.readouterr().err
    assert "pulled 2 issues from Bugsink" in err
    assert fake.token not in err
    monkeypatch.delenv("BUGSINK_TOKEN")
    assert main(["pull", "bugsink", "--out", str(tmp_path)]) == 2
    assert "BUGSINK_TOKEN is not set" in capsys.readouterr().err


def test_tasks_from_a_bugsink_pull_say_bugsink() -> None:
    from selfheal.config import Config
    from selfheal.contracts import contract_errors
    from selfheal.normalize import build_tasks
    from selfheal.sources.bugsink import sentry_issue_from_bugsink
    from selfheal.sources.sentry_export import parse_sentry_export

    issue = sentry_issue_from_bugsink(
        {
            "id": "0b6e1c1e-5b1a-4c55-9f3e-2a1d9d1b7c11",
            "calculated_type": "KeyError",
            "calculated_value": "'x'",
            "digested_event_count": 3,
            "first_seen": "2026-11-20T10:00:00Z",
            "last_seen": "2026-11-21T10:00:00Z",
        },
        None,
        {"id": 1, "name": "demo"},
    )
    failures = parse_sentry_export([{"issue": issue, "latestEvent": None}], "bugsink-export")
    assert failures[0].source == "bugsink"
    task = build_tasks(failures, Config())[0]
    assert task.source == "bugsink"
    assert task.occurrences[0].to_json() == {
        "source": "bugsink",
        "id": "0b6e1c1e-5b1a-4c55-9f3e-2a1d9d1b7c11",
    }
    assert contract_errors(task.to_json()) == []
