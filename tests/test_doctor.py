"""`selfheal doctor` against the fake Sentry and the fake GitHub (real httpx and real PyGithub
over 127.0.0.1): a checklist with a fix for every problem, exit 1 on a problem, no token shown."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from selfheal.cli import main
from selfheal.doctor import Check, DoctorReport, check_github, check_sentry
from selfheal.testing.fake_github import FakeGitHub
from selfheal.testing.fake_sentry import FakeSentry, synthetic_export

SENTRY_TOKEN = "sntrys_doctor-test-token-value"
GITHUB_TOKEN = "github_pat_doctor-test-token-value"
PROJECT = "pump-station"


@pytest.fixture
def sentry() -> Iterator[FakeSentry]:
    with FakeSentry(synthetic_export(3, project=PROJECT), token=SENTRY_TOKEN) as fake:
        yield fake


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub(token=GITHUB_TOKEN) as fake:
        fake.add_repo("acme", "shop")
        yield fake


@pytest.fixture
def env(
    sentry: FakeSentry, gh: FakeGitHub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> dict[str, str]:
    """A clean environment pointing at both fakes; the current folder is an empty repository."""
    values = {
        "SENTRY_AUTH_TOKEN": SENTRY_TOKEN,
        "SENTRY_ORG": "acme",
        "SENTRY_PROJECT": PROJECT,
        "SENTRY_BASE_URL": sentry.base_url,
        "GITHUB_TOKEN": GITHUB_TOKEN,
        "GITHUB_OWNER": "acme",
        "GITHUB_REPO": "shop",
        "GITHUB_API_URL": gh.base_url,
    }
    for name in (*values, "GITHUB_REPOSITORY", "SENTRY_ENV", "SENTRY_ERROR_LIMIT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    return values


def _doctor(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["doctor", *args])
    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert SENTRY_TOKEN not in output
    assert GITHUB_TOKEN not in output
    return code, output


def _lines(output: str, mark: str) -> list[str]:
    return [line[2:] for line in output.splitlines() if line.startswith(f"{mark} ")]


def _free_port() -> int:
    """A port nobody listens on."""
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        port: int = placeholder.getsockname()[1]
    return port


def _repo_json(gh: FakeGitHub, **changes: Any) -> dict[str, Any]:
    url = f"{gh.base_url}/repos/acme/shop"
    data: dict[str, Any] = httpx.get(url, headers={"Authorization": f"token {GITHUB_TOKEN}"}).json()
    data.update(changes)
    return data


# --- everything fine -----------------------------------------------------------------------


def test_all_good_prints_a_checklist_and_exits_0(
    env: dict[str, str],
    sentry: FakeSentry,
    gh: FakeGitHub,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, output = _doctor(capsys)
    assert code == 0, output
    assert _lines(output, "✗") == []
    assert _lines(output, "⚠") == []
    assert _lines(output, "✓") == [
        "configuration: no [tool.selfheal] or selfheal.toml; defaults apply",
        f"Sentry: SENTRY_AUTH_TOKEN set (value hidden); organization acme at {sentry.base_url}",
        "Sentry: organization acme (Acme) reachable (org:read)",
        f"Sentry: project {PROJECT} readable (project:read)",
        "Sentry: issues readable (event:read): at least one unresolved issue",
        "GitHub: GITHUB_TOKEN set (value hidden); repository acme/shop",
        "GitHub: repository acme/shop reachable (public, default branch main)",
        "GitHub: GitHub reports push access to acme/shop",
        "GitHub: default branch main readable",
        "GitHub: labels readable (0 on the first page)",
        "GitHub: pull requests readable",
        "GitHub: draft pull requests allowed (acme/shop is public)",
    ]
    assert output.splitlines()[-1] == "12 ok, 0 warning(s), 0 problem(s): ready"
    paths = [(r.path, {k: list(v) for k, v in r.query.items()}) for r in sentry.requests]
    assert paths == [
        ("/api/0/organizations/acme/", {}),
        (f"/api/0/projects/acme/{PROJECT}/", {}),
        ("/api/0/organizations/acme/issues/", {"limit": ["1"], "project": [PROJECT]}),
    ]
    assert gh.requests, "doctor talked to the fake GitHub"
    assert [r for r in gh.requests if r.is_write] == []  # doctor only reads


def test_without_sentry_project_the_first_visible_project_is_checked(
    env: dict[str, str],
    sentry: FakeSentry,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("SENTRY_PROJECT")
    code, output = _doctor(capsys, "--skip-github")
    assert code == 0, output
    assert "✓ Sentry: SENTRY_PROJECT not set: every project is pulled (1 visible)" in output
    assert f"✓ Sentry: project {PROJECT} readable (project:read)" in output
    assert "- GitHub: skipped (--skip-github)" in output
    assert "/api/0/organizations/acme/projects/" in [r.path for r in sentry.requests]


def test_configuration_file_is_named_when_it_parses(
    env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.selfheal.pr]\nmax_new = 3\n")
    code, output = _doctor(capsys, "--skip-sentry", "--skip-github")
    assert code == 0
    assert "✓ configuration: pyproject.toml [tool.selfheal] parses" in output


# --- configuration and environment ---------------------------------------------------------


def test_a_broken_configuration_is_a_problem_with_a_fix(
    env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.selfheal.pr]\nmax_new = -1\n")
    code, output = _doctor(capsys, "--skip-sentry", "--skip-github")
    assert code == 1
    assert "✗ configuration: configuration tool.selfheal.pr.max_new: must be a whole number >= 0" in output
    assert "fix: correct the setting named above" in output


def test_missing_tokens_are_problems_with_fixes_and_nothing_is_requested(
    env: dict[str, str],
    sentry: FakeSentry,
    gh: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("SENTRY_AUTH_TOKEN")
    monkeypatch.delenv("GITHUB_TOKEN")
    code, output = _doctor(capsys)
    assert code == 1
    assert _lines(output, "✗") == [
        "Sentry: SENTRY_AUTH_TOKEN is not set",
        "GitHub: GITHUB_TOKEN is not set",
    ]
    fixes = " ".join(output.split())
    assert "org:read, project:read, event:read" in fixes
    assert "repository secret SENTRY_AUTH_TOKEN" in fixes
    assert "Contents, Pull requests and Issues: Read and write" in fixes
    assert output.splitlines()[-1] == "1 ok, 0 warning(s), 2 problem(s)"
    assert sentry.requests == []
    assert gh.requests == []


def test_missing_sentry_org_and_github_repository_are_named(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SENTRY_ORG")
    monkeypatch.delenv("GITHUB_REPO")
    code, output = _doctor(capsys)
    assert code == 1
    assert "✗ Sentry: SENTRY_ORG is not set" in output
    assert "✗ GitHub: configuration GITHUB_REPO: environment variable GITHUB_REPO is not set" in output


# --- Sentry answers --------------------------------------------------------------------------


def test_sentry_401_says_the_token_was_rejected_and_stops(
    env: dict[str, str],
    sentry: FakeSentry,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SENTRY_AUTH_TOKEN", "sntrys_revoked-value")
    code, output = _doctor(capsys, "--skip-github")
    assert code == 1
    assert "sntrys_revoked-value" not in output
    assert _lines(output, "✗") == ["Sentry: the token was rejected (HTTP 401)"]
    assert "wrong, expired or revoked" in " ".join(output.split())
    assert len(sentry.requests) == 1  # nothing more to learn with a rejected token


@pytest.mark.parametrize(
    ("scope", "permission", "failing_path"),
    [
        ("org:read", "Organization: Read", "organizations/acme/"),
        ("project:read", "Project: Read", f"projects/acme/{PROJECT}/"),
        ("event:read", "Issue & Event: Read", "organizations/acme/issues/"),
    ],
)
def test_sentry_403_names_the_missing_scope_and_the_permission_that_grants_it(  # noqa: PLR0917 - pytest fixtures plus three parameters
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    scope: str,
    permission: str,
    failing_path: str,
) -> None:
    with FakeSentry(
        synthetic_export(2, project=PROJECT), token=SENTRY_TOKEN, denied_scopes=[scope]
    ) as limited:
        monkeypatch.setenv("SENTRY_BASE_URL", limited.base_url)
        code, output = _doctor(capsys, "--skip-github")
    assert code == 1
    assert _lines(output, "✗") == [
        f"Sentry: the token lacks the scope {scope} (HTTP 403 on GET {failing_path})"
    ]
    assert f'"{permission}" (scope {scope})' in " ".join(output.split())


def test_sentry_unknown_organization_and_project(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SENTRY_ORG", "acme-typo")
    code, output = _doctor(capsys, "--skip-github")
    assert code == 1
    assert "✗ Sentry: organization 'acme-typo' not found at" in output
    assert "de.sentry.io" in output  # the EU-region hint

    monkeypatch.setenv("SENTRY_ORG", "acme")
    monkeypatch.setenv("SENTRY_PROJECT", f"{PROJECT},nope")
    code, output = _doctor(capsys, "--skip-github")
    assert code == 1
    assert f"✓ Sentry: project {PROJECT} readable (project:read)" in output
    assert "✗ Sentry: project 'nope' not found in organization acme" in output


def test_sentry_unreachable_names_the_address(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = _free_port()
    monkeypatch.setenv("SENTRY_BASE_URL", f"http://127.0.0.1:{port}")
    code, output = _doctor(capsys, "--skip-github")
    assert code == 1
    assert (
        f"✗ Sentry: GET http://127.0.0.1:{port}/api/0/organizations/acme/ failed: cannot reach Sentry"
        in output
    )
    assert "fix: check SENTRY_BASE_URL" in output


def test_sentry_server_error_is_reported_not_raised(
    env: dict[str, str], sentry: FakeSentry, capsys: pytest.CaptureFixture[str]
) -> None:
    sentry.inject("error", count=1, path="/issues/", status=502)
    code, output = _doctor(capsys, "--skip-github")
    assert code == 1
    assert re.search(
        r"✗ Sentry: http://127\.0\.0\.1:\d+/api/0/organizations/acme/issues/ answered HTTP 502", output
    )


@pytest.mark.parametrize(
    ("fault", "expected", "fix"),
    [
        (
            "html",
            r"Sentry: GET http://127\.0\.0\.1:\d+/api/0/organizations/acme/ failed: .*HTML page.*",
            "fix: check SENTRY_BASE_URL",
        ),
        (
            "rate_limit",
            r"Sentry: rate limited \(HTTP 429\) on http://127\.0\.0\.1:\d+/api/0/organizations/acme/",
            "fix: wait a minute and run doctor again",
        ),
    ],
)
def test_sentry_faults_are_one_attempt_and_one_problem_with_a_fix(  # noqa: PLR0917 - pytest fixtures plus three parameters
    env: dict[str, str],
    sentry: FakeSentry,
    capsys: pytest.CaptureFixture[str],
    fault: str,
    expected: str,
    fix: str,
) -> None:
    """Issue 15: doctor goes through the shared ApiClient with one attempt: no retry, no wait."""
    sentry.inject(fault, count=5)  # type: ignore[arg-type]  # the parametrized names are FaultKind
    code, output = _doctor(capsys, "--skip-github")
    assert code == 1
    (failed,) = _lines(output, "✗")
    assert re.fullmatch(expected, failed), failed
    assert fix in output
    assert len(sentry.requests) == 1


# --- GitHub answers --------------------------------------------------------------------------


def test_github_401_says_the_token_was_rejected(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_revoked-value")
    code, output = _doctor(capsys, "--skip-sentry")
    assert code == 1
    assert "ghp_revoked-value" not in output
    assert _lines(output, "✗") == ["GitHub: the token was rejected (HTTP 401 Bad credentials)"]


def test_github_repository_404_explains_visibility(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GITHUB_REPO", "nope")
    code, output = _doctor(capsys, "--skip-sentry")
    assert code == 1
    assert _lines(output, "✗") == ["GitHub: repository acme/nope not found, or not visible to this token"]
    assert "Repository access" in " ".join(output.split())


def test_github_403_resource_not_accessible_names_the_fine_grained_permission(
    env: dict[str, str], gh: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    denied = {"message": "Resource not accessible by integration", "status": "403"}
    gh.inject(method="GET", path=r"/labels$", status=403, body=denied)
    code, output = _doctor(capsys, "--skip-sentry")
    assert code == 1
    assert _lines(output, "✗") == [
        "GitHub: cannot read labels (HTTP 403: Resource not accessible by integration)"
    ]
    assert "permission Issues: Read and write" in " ".join(output.split())
    assert "✓ GitHub: pull requests readable" in output  # the other checks still ran


def test_github_unreachable_is_one_problem_naming_the_api_url(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = _free_port()
    monkeypatch.setenv("GITHUB_API_URL", f"http://127.0.0.1:{port}")
    code, output = _doctor(capsys, "--skip-sentry")
    assert code == 1
    (failed,) = _lines(output, "✗")
    assert failed.startswith("GitHub: could not read the repository: ConnectionError after 1 attempts")
    assert "fix: check GITHUB_API_URL" in output
    assert "draft" not in output  # nothing more to learn from an unreachable GitHub


def test_github_server_error_is_one_attempt_and_the_other_checks_still_run(
    env: dict[str, str], gh: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    gh.inject(method="GET", path=r"/pulls$", status=502, count=5)
    code, output = _doctor(capsys, "--skip-sentry")
    assert code == 1
    assert _lines(output, "✗") == ["GitHub: reading pull requests failed (HTTP 502: Injected 502)"]
    assert [r.path for r in gh.requests].count("/api/v3/repos/acme/shop/pulls") == 1
    assert "✓ GitHub: draft pull requests allowed (acme/shop is public)" in output


def test_github_html_page_from_a_proxy_is_a_problem_not_a_crash(
    env: dict[str, str], gh: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    gh.inject("html", method="GET", path=r"/labels$")
    code, output = _doctor(capsys, "--skip-sentry")
    assert code == 1
    (failed,) = _lines(output, "✗")
    assert "HTML page" in failed
    assert "fix: check GITHUB_API_URL" in output


def test_github_token_without_push_is_a_problem(
    env: dict[str, str], gh: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    read_only = _repo_json(gh, permissions={"admin": False, "push": False, "pull": True})
    gh.inject(method="GET", path=r"^/api/v3/repos/acme/shop$", status=200, body=read_only)
    code, output = _doctor(capsys, "--skip-sentry")
    assert code == 1
    assert _lines(output, "✗") == [
        "GitHub: GitHub reports read-only access to acme/shop: branches cannot be pushed"
    ]
    assert "pull-requests: write" in output


def test_github_workflow_token_without_reported_permissions_is_a_warning(
    env: dict[str, str], gh: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    app_view = _repo_json(gh)
    del app_view["permissions"]
    gh.inject(method="GET", path=r"^/api/v3/repos/acme/shop$", status=200, body=app_view)
    code, output = _doctor(capsys, "--skip-sentry")
    assert code == 0, output
    (warning,) = _lines(output, "⚠")
    assert warning.startswith("GitHub: GitHub does not report this token's permissions on acme/shop")


def test_classic_token_without_repo_scope_is_a_problem(
    env: dict[str, str], gh: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    gh.inject(
        method="GET",
        path=r"^/api/v3/repos/acme/shop$",
        status=200,
        body=_repo_json(gh),
        headers={"X-OAuth-Scopes": "read:org, gist"},
    )
    code, output = _doctor(capsys, "--skip-sentry")
    assert code == 1
    assert "✗ GitHub: the classic token's scopes (read:org, gist) cannot open PRs on acme/shop" in output


def test_empty_repository_has_no_default_branch_to_start_from(env: dict[str, str], gh: FakeGitHub) -> None:
    gh.add_repo("acme", "empty", default_branch="trunk").refs.clear()
    checks = check_github({**env, "GITHUB_REPO": "empty"})
    failed = [c for c in checks if c.status == "fail"]
    assert [c.summary for c in failed] == ["the default branch 'trunk' has no commits"]
    assert "push a first commit" in failed[0].fix


def test_private_repository_warns_that_drafts_need_a_paid_plan(
    env: dict[str, str],
    gh: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    gh.add_repo("acme", "secret-shop", private=True)
    monkeypatch.setenv("GITHUB_REPO", "secret-shop")
    code, output = _doctor(capsys, "--skip-sentry")
    assert code == 0, output  # a warning, not a problem
    (warning,) = _lines(output, "⚠")
    assert "acme/secret-shop is a personal account's private repository" in warning
    assert "need GitHub Team or Enterprise Cloud" in warning
    flat = " ".join(output.split())
    assert "'Draft pull requests are not supported in this repository.'" in flat
    assert "selfheal pr --no-draft" in flat
    assert output.splitlines()[-1].endswith("1 warning(s), 0 problem(s): ready")


def test_no_draft_or_config_draft_false_silences_the_drafts_warning(
    env: dict[str, str],
    gh: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    gh.add_repo("acme", "secret-shop", private=True)
    monkeypatch.setenv("GITHUB_REPO", "secret-shop")
    code, output = _doctor(capsys, "--skip-sentry", "--no-draft")
    assert code == 0
    assert _lines(output, "⚠") == []
    assert "✓ GitHub: pull requests open ready for review (drafts switched off)" in output

    (tmp_path / "selfheal.toml").write_text("[pr]\ndraft = false\n")
    code, output = _doctor(capsys, "--skip-sentry")
    assert code == 0
    assert _lines(output, "⚠") == []


# --- the report itself -------------------------------------------------------------------


def test_report_renders_in_ascii_for_limited_terminals() -> None:
    report = DoctorReport(
        (
            Check("Sentry", "ok", "fine"),
            Check("GitHub", "warn", "hmm", fix="do this"),
            Check("GitHub", "fail", "broken", fix="do that"),
            Check("config", "skip", "skipped"),
        )
    )
    text = report.render(unicode=False)
    assert text.isascii()
    assert text.splitlines() == [
        "ok Sentry: fine",
        "!! GitHub: hmm",
        "    fix: do this",
        "XX GitHub: broken",
        "    fix: do that",
        "-- config: skipped",
        "1 ok, 1 warning(s), 1 problem(s)",
    ]
    assert not report.ok


def test_check_functions_take_the_environment_as_a_mapping(sentry: FakeSentry) -> None:
    environ = {
        "SENTRY_AUTH_TOKEN": SENTRY_TOKEN,
        "SENTRY_ORG": "acme",
        "SENTRY_PROJECT": PROJECT,
        "SENTRY_BASE_URL": sentry.base_url,
    }
    checks = check_sentry(environ)
    assert [c.status for c in checks] == ["ok", "ok", "ok", "ok"]
    assert all(SENTRY_TOKEN not in f"{c.summary} {c.fix}" for c in checks)
