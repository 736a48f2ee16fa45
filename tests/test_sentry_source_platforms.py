"""Sentry events across platforms: area from the runtime, stacks outside exceptions, and
browser security reports with severity rules of their own."""

from __future__ import annotations

import pytest

from selfheal.config import Config, SeverityConfig, SeverityRule
from selfheal.normalize import build_tasks
from selfheal.owners import EventRuntime, area_from_runtime
from selfheal.sources.sentry_export import parse_sentry_export
from selfheal.sources.stacktext import MAX_MESSAGE_CHARS


@pytest.mark.parametrize(
    ("runtime", "area"),
    [
        (EventRuntime(platform="cocoa", os_name="iOS"), "mobile"),
        (EventRuntime(platform="cocoa", os_name="macOS"), "frontend"),  # a desktop app
        (EventRuntime(platform="java", sdk_name="sentry.java.android"), "mobile"),
        (EventRuntime(platform="java", os_name="Android"), "mobile"),  # no SDK name: the OS says it
        (EventRuntime(platform="java", sdk_name="sentry.java.spring-boot"), "backend"),
        (EventRuntime(platform="javascript", sdk_name="sentry.javascript.react-native"), "mobile"),
        (EventRuntime(platform="javascript", sdk_name="sentry.javascript.cordova"), "mobile"),
        (EventRuntime(platform="javascript", sdk_name="sentry.javascript.capacitor"), "mobile"),
        (EventRuntime(platform="dart", sdk_name="sentry.dart.flutter"), "mobile"),
        (EventRuntime(platform="csharp", sdk_name="sentry.unity"), "mobile"),
        (EventRuntime(platform="csharp", sdk_name="sentry.dotnet.aspnetcore"), "backend"),
        (EventRuntime(platform="javascript", sdk_name="sentry.javascript.cloudflare"), "edge"),
        (
            EventRuntime(
                platform="javascript", sdk_name="sentry.javascript.nextjs", runtime_name="vercel-edge"
            ),
            "edge",
        ),
        # a Next.js page rendered on the server is still the web app's code
        (EventRuntime(platform="node", sdk_name="sentry.javascript.nextjs", runtime_name="node"), "frontend"),
        (EventRuntime(platform="node", sdk_name="sentry.javascript.express", runtime_name="node"), "backend"),
        (EventRuntime(platform="javascript", sdk_name="sentry.javascript.browser"), "frontend"),
        (EventRuntime(platform="node", sdk_name="sentry.javascript.node"), "backend"),
        (EventRuntime(platform="python", has_browser=True), "backend"),  # a browser context from the request
        (EventRuntime(platform="other", event_type="csp"), "frontend"),
        (EventRuntime(platform="ruby"), "backend"),
        (EventRuntime(), ""),  # nothing said: decided from the files
    ],
)
def test_area_comes_from_the_runtime_first(runtime: EventRuntime, area: str) -> None:
    assert area_from_runtime(runtime) == area


def _issue(event: dict[str, object], **issue: object) -> list[dict[str, object]]:
    base: dict[str, object] = {"id": "9", "title": "x", "count": "3", "userCount": 1, "level": "error"}
    return [{"issue": {**base, **issue}, "latestEvent": event}]


def _frames(*files: str) -> list[dict[str, object]]:
    """Oldest first, as Sentry sends them."""
    return [{"filename": f, "function": "f", "lineno": 3, "in_app": True} for f in files]


def test_a_stack_in_a_top_level_stacktrace_entry_gives_frames() -> None:
    event = {
        "entries": [
            {"type": "message", "data": {"formatted": "retrying"}},
            {"type": "stacktrace", "data": {"frames": _frames("jobs/run.py", "jobs/retry.py")}},
        ]
    }
    (failure,) = parse_sentry_export(_issue(event, title="retrying"), "x.json")
    assert [f.path for f in failure.frames] == ["jobs/retry.py", "jobs/run.py"]  # crash first
    assert failure.file == "jobs/retry.py"


def test_the_crashed_thread_gives_frames_in_the_raw_sdk_shape_too() -> None:
    event = {
        "platform": "native",
        "threads": {
            "values": [
                {"id": 2, "crashed": False, "stacktrace": {"frames": _frames("src/idle.c")}},
                {"id": 1, "crashed": True, "stacktrace": {"frames": _frames("src/main.c", "src/crash.c")}},
            ]
        },
    }
    (failure,) = parse_sentry_export(_issue(event), "x.json")
    assert failure.file == "src/crash.c"


def _csp(users: int, count: int) -> list[dict[str, object]]:
    event = {"type": "csp", "entries": [{"type": "csp", "data": {"effective_directive": "script-src"}}]}
    return _issue(event, title="Blocked 'script' from 'evil.example.net'", userCount=users, count=str(count))


def test_a_csp_report_from_many_users_is_not_a_blocker() -> None:
    (task,) = build_tasks(parse_sentry_export(_csp(5000, 90_000), "x.json"), Config())
    assert task.severity == "medium"
    assert task.area == "frontend"
    assert task.exception_type == "CSPViolation"
    assert task.severity_reasons[0].startswith("CSP report from 5000 users")


def test_a_rare_csp_report_is_low() -> None:
    (task,) = build_tasks(parse_sentry_export(_csp(1, 2), "x.json"), Config())
    assert (task.severity, task.severity_reasons) == ("low", ("browser security report (CSP) → low",))


def test_a_configured_rule_still_raises_a_security_report() -> None:
    config = Config(severity=SeverityConfig(rules=(SeverityRule(r"evil\.example", "high", "title"),)))
    (task,) = build_tasks(parse_sentry_export(_csp(1, 2), "x.json"), config)
    assert task.severity == "high"


def test_in_a_checkout_the_frames_whole_path_chooses_between_same_named_files() -> None:
    from selfheal.paths import RepoTree

    tree = RepoTree(["shop/static/app.js", "releases/v41/shop/static/app.js", "shop/cart.py"])
    frames = [
        {
            "filename": "shop/static/app.js",
            "abs_path": "/srv/deploy/releases/v41/shop/static/app.js",
            "in_app": True,
        },
    ]
    event = {"exception": {"values": [{"type": "TypeError", "value": "x", "stacktrace": {"frames": frames}}]}}
    (failure,) = parse_sentry_export(_issue(event), "x.json", tree=tree)
    assert failure.file == "releases/v41/shop/static/app.js"
    unsure = [{"filename": "lib/util.py", "abs_path": "/opt/x/lib/util.py", "in_app": True}]
    event = {"exception": {"values": [{"type": "KeyError", "value": "x", "stacktrace": {"frames": unsure}}]}}
    (failure,) = parse_sentry_export(
        _issue(event), "x.json", tree=RepoTree(["a/lib/util.py", "b/lib/util.py"])
    )
    assert failure.file == "lib/util.py"  # the checkout cannot decide: the hint is kept


def test_a_boolean_line_number_is_no_line_number() -> None:
    frames = [{"filename": "shop/cart.py", "lineno": True, "in_app": True}]
    event = {"exception": {"values": [{"type": "KeyError", "value": "x", "stacktrace": {"frames": frames}}]}}
    (failure,) = parse_sentry_export(_issue(event), "x.json")
    assert failure.frames[0].lineno is None  # JSON true is not a line (bool is an int in Python)


def test_a_runaway_message_is_cut_like_a_test_runners_with_a_marker() -> None:
    value = "x" * (MAX_MESSAGE_CHARS + 5)
    event = {"exception": {"values": [{"type": "ValueError", "value": value}]}}
    (failure,) = parse_sentry_export(_issue(event), "x.json")
    assert failure.exception_type == "ValueError"
    assert failure.message == "x" * MAX_MESSAGE_CHARS + "\n… [truncated 5 characters]"
