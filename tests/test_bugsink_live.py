"""End to end against a real Bugsink: a crashing app -> sentry-sdk -> Bugsink -> `selfheal pull
bugsink` -> `selfheal normalize sentry` -> `selfheal pr --dry-run`.

Installs the pinned Bugsink into .cache/bugsink-venv on first use (about 15 s; reused locally),
runs it with SQLite on 127.0.0.1 and stops it by PID. CI runs it (marker ``bugsink``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from bugsink_support.server import BugsinkServer, ensure_bugsink_venv, start_bugsink

SHOP_APP = Path(__file__).parent / "bugsink_support" / "shop_app.py"
SELFHEAL = [sys.executable, "-m", "selfheal"]


def line_of(code: str) -> int:
    """The line number of a statement in the shop app (what the stack traces must point at)."""
    lines = SHOP_APP.read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, start=1) if line.strip() == code)


def selfheal(argv: list[str], *, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [*SELFHEAL, *argv], env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, f"selfheal {' '.join(argv)}:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def bugsink(tmp_path_factory: pytest.TempPathFactory) -> Any:
    bin_dir = ensure_bugsink_venv()
    server = start_bugsink(tmp_path_factory.mktemp("bugsink-server"), bin_dir)
    try:
        yield server
    finally:
        server.stop()
        assert server.process.returncode is not None  # stopped by PID, not left behind


@pytest.mark.slow
@pytest.mark.bugsink
def test_crashes_in_bugsink_become_deduplicated_tasks_and_pr_previews(
    bugsink: BugsinkServer, tmp_path: Path
) -> None:
    project_id, dsn = bugsink.create_project("shop-app")
    sent = subprocess.run(
        [str(bugsink.bin_dir / "python"), str(SHOP_APP), dsn],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert sent.returncode == 0, sent.stderr

    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SENTRY_", "BUGSINK_", "GITHUB_"))
    }
    env.update(
        CI="true",
        BUGSINK_BASE_URL=bugsink.base_url,
        BUGSINK_TOKEN=bugsink.token,
        BUGSINK_PROJECT=project_id,
    )
    out = tmp_path / "out"

    # 1. pull: six Bugsink issues (it groups by message, numbers normalised), every event
    pulled = selfheal(["pull", "bugsink", "--out", str(out)], env=env, cwd=tmp_path)
    assert "pulled 6 issues from Bugsink: 6 latest events, 0 missing" in pulled.stderr
    items = json.loads((out / "sentry_errors.json").read_text(encoding="utf-8"))
    by_title = {item["issue"]["title"]: item for item in items}
    assert set(by_title) == {
        "ValueError: could not convert string to float: '12,50 EUR'",
        "ValueError: could not convert string to float: 'twelve'",
        "KeyError: 'email'",
        "ZeroDivisionError: division by zero",
        "KeyError: 42",  # KeyError 17 and 42: one Bugsink issue, the latest event says 42
        "TypeError: unsupported operand type(s) for *: 'NoneType' and 'float'",
    }
    assert by_title["KeyError: 'email'"]["issue"]["count"] == "2"
    assert by_title["KeyError: 42"]["issue"]["count"] == "2"
    email = by_title["KeyError: 'email'"]["latestEvent"]
    crash = email["entries"][0]["data"]["values"][-1]["stacktrace"]["frames"][-1]
    assert (crash["function"], crash["lineNo"]) == ("customer_email", line_of('return customer["email"]'))
    assert crash["absPath"] == str(SHOP_APP)
    tags = {tag["key"]: tag["value"] for tag in email["tags"]}
    assert tags["environment"] == "ci"
    assert tags["release"] == "shop-app@1.4.0"
    assert tags["component"] == "checkout"
    assert email["sdk"]["name"] == "sentry.python"  # not the Django integration

    # 2. normalize: the two ValueErrors are one bug (same crash frame) -> 5 tasks
    normalized = selfheal(
        [
            "normalize",
            "sentry",
            "--input",
            str(out / "sentry_errors.json"),
            "--out",
            str(out),
            "--min-frequency",
            "1",
        ],
        env=env,
        cwd=tmp_path,
    )
    assert "6 raw items -> 5 PatchTasks" in normalized.stdout + normalized.stderr
    tasks = json.loads((out / "patchtasks.json").read_text(encoding="utf-8"))
    crash_sites = {
        (task["evidence"]["frames"][0]["function"], task["evidence"]["frames"][0]["lineNo"]): task
        for task in tasks
    }
    assert set(crash_sites) == {
        ("parse_price", line_of("return float(raw)")),
        ("customer_email", line_of('return customer["email"]')),
        ("average_rating", line_of("return sum(ratings) / len(ratings)")),
        ("load_order", line_of("return ORDERS[order_id]")),
        ("apply_discount", line_of("return price * (1 - rate)  # type: ignore[operator]")),
    }
    price = crash_sites[("parse_price", line_of("return float(raw)"))]
    assert len(price["occurrences"]) == 2  # two Bugsink issues merged into one task
    assert price["frequency"] == 2
    assert all(task["environment"] == "ci" and task["release"] == "shop-app@1.4.0" for task in tasks)

    # 3. dry-run PRs: one preview per task, nothing remote, no token anywhere
    planned = selfheal(["pr", "--dry-run", "--all", "--out", str(out)], env=env, cwd=tmp_path)
    assert "would create 5" in planned.stdout + planned.stderr
    plan = json.loads((out / "pr_plan.json").read_text(encoding="utf-8"))
    assert plan["counts"]["create"] == 5
    previews = sorted((out / "pr_previews").glob("*.md"))
    assert len(previews) == 5
    assert any("customer_email" in preview.read_text(encoding="utf-8") for preview in previews)
    for path in [out / "sentry_errors.json", out / "patchtasks.json", out / "pr_plan.json", *previews]:
        assert bugsink.token not in path.read_text(encoding="utf-8")
    for result in (pulled, normalized, planned):
        assert bugsink.token not in result.stdout + result.stderr
