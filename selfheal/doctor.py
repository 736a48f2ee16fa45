"""`selfheal doctor`: is this machine (or CI job) ready to pull from Sentry and open draft PRs?

Each check answers one question and, when the answer is no, says how to fix it::

    ✓ configuration: pyproject.toml [tool.selfheal] parses
    ✗ Sentry: the token lacks the scope event:read (HTTP 403 on …/issues/)
        fix: give the internal integration "Issue & Event: Read" and use its token …
    ⚠ GitHub: acme/web is private: draft pull requests there need GitHub Team or Enterprise …

The checks only read: Sentry ``GET organization``, ``GET project`` (or the org's project list
and its first project), ``GET organization issues?limit=1``; GitHub ``GET repository``,
default branch, labels, open pull requests. Nothing is retried (a diagnosis should be quick)
and no token value is ever part of a line: tokens stay in the settings objects.
"""

from __future__ import annotations

import json
import logging
import sys
import textwrap
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import httpx
from github import Auth, Github, GithubException

from selfheal.config import load_config
from selfheal.errors import ConfigError
from selfheal.scrub import strip_url_userinfo
from selfheal.settings import GitHubSettings, SentrySettings

__all__ = [
    "Check",
    "DoctorReport",
    "Status",
    "check_configuration",
    "check_github",
    "check_sentry",
    "run_doctor",
]

Status = Literal["ok", "warn", "fail", "skip"]

_MARKS: dict[Status, tuple[str, str]] = {
    "ok": ("✓", "ok"),
    "warn": ("⚠", "!!"),
    "fail": ("✗", "XX"),
    "skip": ("-", "--"),
}

#: Sentry's internal-integration permission that grants each token scope.
_SENTRY_PERMISSION = {
    "org:read": "Organization: Read",
    "project:read": "Project: Read",
    "event:read": "Issue & Event: Read",
}

_SENTRY_AUTH_FIX = (
    "create an internal integration in Sentry (Settings > Developer Settings > Custom "
    "Integrations > New Internal Integration) with Organization: Read, Project: Read and "
    "Issue & Event: Read (scopes org:read, project:read, event:read); export its token as "
    "SENTRY_AUTH_TOKEN, or in GitHub Actions add it as the repository secret SENTRY_AUTH_TOKEN"
)
_SENTRY_ORG_FIX = (
    "export SENTRY_ORG=<organization slug> (the name after /organizations/ in Sentry's URLs); "
    "in GitHub Actions set the repository variable SENTRY_ORG"
)
_GITHUB_AUTH_FIX = (
    "create a fine-grained personal access token for this repository with Contents, Pull "
    "requests and Issues: Read and write (Metadata: Read comes with them) and export it as "
    "GITHUB_TOKEN; in GitHub Actions the workflow passes its own GITHUB_TOKEN or the secret "
    "SELFHEAL_GITHUB_TOKEN"
)
_GITHUB_REPO_FIX = (
    "export GITHUB_OWNER=<owner> and GITHUB_REPO=<name> (GitHub Actions sets "
    "GITHUB_REPOSITORY, which is used when they are unset)"
)
_GITHUB_WRITE_FIX = (
    "fine-grained token: Contents, Pull requests and Issues: Read and write; classic token: "
    "the repo scope (public_repo for a public repository); the workflow's GITHUB_TOKEN: "
    "permissions: contents: write, pull-requests: write, issues: write on the job"
)
_DRAFTS_NOT_SUPPORTED = "Draft pull requests are not supported in this repository."


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the checklist: what was checked, the answer, and the fix when it is no."""

    topic: str
    status: Status
    summary: str
    fix: str = ""


@dataclass(frozen=True, slots=True)
class DoctorReport:
    """Every check in the order it ran."""

    checks: tuple[Check, ...]

    @property
    def problems(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.status == "fail")

    @property
    def warnings(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.status == "warn")

    @property
    def ok(self) -> bool:
        return not self.problems

    def render(self, *, unicode: bool = True) -> str:
        """The checklist as text; ``unicode=False`` uses ASCII marks for limited terminals."""
        lines = []
        for check in self.checks:
            mark = _MARKS[check.status][0 if unicode else 1]
            lines.append(f"{mark} {check.topic}: {check.summary}")
            if check.fix:
                lines.append(
                    textwrap.fill(
                        check.fix,
                        width=100,
                        initial_indent="    fix: ",
                        subsequent_indent="         ",
                        break_on_hyphens=False,
                        break_long_words=False,
                    )
                )
        passed = sum(1 for c in self.checks if c.status == "ok")
        lines.append(
            f"{passed} ok, {len(self.warnings)} warning(s), {len(self.problems)} problem(s)"
            + ("" if self.problems else ": ready")
        )
        return strip_url_userinfo("\n".join(lines))  # URLs from settings may carry user:password@


# --- configuration -----------------------------------------------------------------------


def check_configuration(root: Path) -> list[Check]:
    """Does ``[tool.selfheal]`` / ``selfheal.toml`` parse?"""
    try:
        config = load_config(root)
    except ConfigError as exc:
        return [
            Check(
                "configuration",
                "fail",
                str(exc),
                fix="correct the setting named above (docs/configuration.md lists every key)",
            )
        ]
    if config.source_file is None:
        return [Check("configuration", "ok", "no [tool.selfheal] or selfheal.toml; defaults apply")]
    table = "" if config.source_file.name == "selfheal.toml" else " [tool.selfheal]"
    return [Check("configuration", "ok", f"{config.source_file}{table} parses")]


# --- Sentry ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _SentryAnswer:
    status: int
    data: Any
    detail: str


class _SentryStopError(Exception):
    """A Sentry check failed in a way that makes the remaining ones pointless."""

    def __init__(self, check: Check) -> None:
        super().__init__(check.summary)
        self.check = check


def _sentry_detail(response: httpx.Response) -> str:
    try:
        payload = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return ""
    detail = payload.get("detail") if isinstance(payload, dict) else payload
    return " ".join(str(detail).split())[:200] if detail else ""


def _sentry_get(client: httpx.Client, path: str, params: Mapping[str, Any] | None = None) -> _SentryAnswer:
    url = f"{client.base_url}{path.lstrip('/')}"
    try:
        response = client.get(path, params=params)
    except httpx.TimeoutException:
        raise _SentryStopError(
            Check(
                "Sentry",
                "fail",
                f"no answer from {url} in time",
                fix="check SENTRY_BASE_URL and that this machine can reach it (proxy, firewall)",
            )
        ) from None
    except httpx.TransportError as exc:
        raise _SentryStopError(
            Check(
                "Sentry",
                "fail",
                f"cannot connect to {url} ({type(exc).__name__})",
                fix="check SENTRY_BASE_URL (https://sentry.io, a region such as "
                "https://de.sentry.io, or your self-hosted address) and the network",
            )
        ) from None
    detail = _sentry_detail(response)
    if response.status_code == 401:
        raise _SentryStopError(
            Check(
                "Sentry",
                "fail",
                f"the token was rejected (HTTP 401{': ' + detail if detail else ''})",
                fix="SENTRY_AUTH_TOKEN is wrong, expired or revoked, or belongs to another "
                "Sentry (check SENTRY_BASE_URL); " + _SENTRY_AUTH_FIX,
            )
        )
    if response.status_code == 429:
        raise _SentryStopError(
            Check(
                "Sentry",
                "fail",
                f"rate limited (HTTP 429) on {url}",
                fix="wait a minute and run doctor again",
            )
        )
    if response.status_code >= 500:
        raise _SentryStopError(
            Check(
                "Sentry",
                "fail",
                f"{url} answered HTTP {response.status_code}",
                fix="Sentry is having trouble; try again later (status.sentry.io)",
            )
        )
    data: Any = None
    if response.status_code == 200:
        try:
            data = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise _SentryStopError(
                Check(
                    "Sentry",
                    "fail",
                    f"{url} did not answer with JSON; is SENTRY_BASE_URL Sentry's address?",
                    fix="set SENTRY_BASE_URL to the web address of Sentry without /api/0 "
                    "(for example https://sentry.io or https://sentry.example.com)",
                )
            ) from None
    return _SentryAnswer(response.status_code, data, detail)


def _forbidden(scope: str, path: str) -> Check:
    return Check(
        "Sentry",
        "fail",
        f"the token lacks the scope {scope} (HTTP 403 on GET {path})",
        fix=f'give the internal integration "{_SENTRY_PERMISSION[scope]}" (scope {scope}) '
        "and use its token; selfheal needs org:read, project:read and event:read",
    )


def _unexpected(path: str, answer: _SentryAnswer) -> Check:
    detail = f": {answer.detail}" if answer.detail else ""
    return Check("Sentry", "fail", f"GET {path} answered HTTP {answer.status}{detail}")


def _check_sentry_org(client: httpx.Client, settings: SentrySettings) -> Check:
    org = quote(settings.org, safe="")
    path = f"organizations/{org}/"
    answer = _sentry_get(client, path)
    if answer.status == 200:
        name = answer.data.get("name") if isinstance(answer.data, dict) else None
        label = f" ({name})" if name and name != settings.org else ""
        return Check("Sentry", "ok", f"organization {settings.org}{label} reachable (org:read)")
    if answer.status == 403:
        return _forbidden("org:read", path)
    if answer.status == 404:
        raise _SentryStopError(
            Check(
                "Sentry",
                "fail",
                f"organization {settings.org!r} not found at {settings.base_url}",
                fix="check SENTRY_ORG (the slug, not the display name); organizations in the EU "
                "region use SENTRY_BASE_URL=https://de.sentry.io",
            )
        )
    return _unexpected(path, answer)


def _check_sentry_projects(client: httpx.Client, settings: SentrySettings) -> list[Check]:
    org = quote(settings.org, safe="")
    slugs = list(settings.projects)
    checks = []
    if not slugs:
        listing = f"organizations/{org}/projects/"
        answer = _sentry_get(client, listing)
        if answer.status == 403:
            return [_forbidden("org:read", listing)]
        if answer.status != 200 or not isinstance(answer.data, list):
            return [_unexpected(listing, answer)]
        found = [str(p.get("slug")) for p in answer.data if isinstance(p, dict) and p.get("slug")]
        if not found:
            return [
                Check(
                    "Sentry",
                    "warn",
                    f"organization {settings.org} has no projects this token can see",
                    fix="set SENTRY_PROJECT to the project slug(s) to pull, comma-separated",
                )
            ]
        checks.append(
            Check("Sentry", "ok", f"SENTRY_PROJECT not set: every project is pulled ({len(found)} visible)")
        )
        slugs = found[:1]
    for slug in slugs:
        path = f"projects/{org}/{quote(slug, safe='')}/"
        answer = _sentry_get(client, path)
        if answer.status == 200:
            checks.append(Check("Sentry", "ok", f"project {slug} readable (project:read)"))
        elif answer.status == 403:
            checks.append(_forbidden("project:read", path))
        elif answer.status == 404:
            checks.append(
                Check(
                    "Sentry",
                    "fail",
                    f"project {slug!r} not found in organization {settings.org}",
                    fix="check SENTRY_PROJECT: project slugs, comma-separated, as in the "
                    "project's Sentry URL",
                )
            )
        else:
            checks.append(_unexpected(path, answer))
    return checks


def _check_sentry_issues(client: httpx.Client, settings: SentrySettings) -> Check:
    path = f"organizations/{quote(settings.org, safe='')}/issues/"
    params: dict[str, Any] = {"limit": 1}
    if settings.projects:
        params["project"] = list(settings.projects)
    answer = _sentry_get(client, path, params)
    if answer.status == 200:
        seen = len(answer.data) if isinstance(answer.data, list) else 0
        state = "at least one unresolved issue" if seen else "no unresolved issues right now"
        return Check("Sentry", "ok", f"issues readable (event:read): {state}")
    if answer.status == 403:
        return _forbidden("event:read", path)
    return _unexpected(path, answer)


def check_sentry(environ: Mapping[str, str], *, timeout: float = 10.0) -> list[Check]:
    """Token and organization set; organization, project(s) and issues readable."""
    missing = [
        Check("Sentry", "fail", f"{name} is not set", fix=fix)
        for name, fix in (("SENTRY_AUTH_TOKEN", _SENTRY_AUTH_FIX), ("SENTRY_ORG", _SENTRY_ORG_FIX))
        if not environ.get(name, "").strip()
    ]
    if missing:
        return missing
    try:
        settings = SentrySettings.from_env(environ)
    except ConfigError as exc:
        return [Check("Sentry", "fail", str(exc), fix="correct the environment variable named above")]
    checks = [
        Check(
            "Sentry",
            "ok",
            f"SENTRY_AUTH_TOKEN set (value hidden); organization {settings.org} at {settings.base_url}",
        )
    ]
    headers = {"Authorization": f"Bearer {settings.token}", "Accept": "application/json"}
    with httpx.Client(base_url=f"{settings.base_url}/api/0/", headers=headers, timeout=timeout) as client:
        try:
            checks.append(_check_sentry_org(client, settings))
            checks.extend(_check_sentry_projects(client, settings))
            checks.append(_check_sentry_issues(client, settings))
        except _SentryStopError as stop:
            checks.append(stop.check)
    return checks


# --- GitHub ------------------------------------------------------------------------------


def _github_message(exc: GithubException) -> str:
    data = exc.data if isinstance(exc.data, dict) else {}
    return " ".join(str(data.get("message") or exc.message or "").split())[:200]


def _github_failure(exc: GithubException, what: str, permission: str) -> Check:
    """Explain a GitHub error on ``what``; ``permission`` is the fine-grained one it needs."""
    message = _github_message(exc)
    status = exc.status
    if status == 401:
        return Check(
            "GitHub",
            "fail",
            f"the token was rejected (HTTP 401 {message or 'Bad credentials'})",
            fix="GITHUB_TOKEN is wrong, expired or revoked (or GITHUB_API_URL points at "
            "another GitHub); " + _GITHUB_AUTH_FIX,
        )
    if status in (403, 429) and "rate limit" in message.lower():
        return Check(
            "GitHub", "fail", f"rate limited (HTTP {status}: {message})", fix="wait and run doctor again"
        )
    if status == 403:
        return Check(
            "GitHub",
            "fail",
            f"cannot read {what} (HTTP 403: {message or 'Forbidden'})",
            fix=f"the token needs the repository permission {permission} "
            "(fine-grained token or the workflow's permissions: block); " + _GITHUB_WRITE_FIX,
        )
    return Check("GitHub", "fail", f"reading {what} failed (HTTP {status}: {message})")


@contextmanager
def _quiet_pygithub() -> Iterator[None]:
    # `import github` logs each retry and request at INFO on stderr; keep the checklist clean.
    logger = logging.getLogger("github")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _check_drafts(settings: GitHubSettings, repository: Any, *, draft: bool) -> Check:
    name = settings.full_name
    if not draft:
        return Check("GitHub", "ok", "pull requests open ready for review (drafts switched off)")
    if not repository.private:
        return Check("GitHub", "ok", f"draft pull requests allowed ({name} is public)")
    owner_type = getattr(repository.owner, "type", None)
    who = "a personal account's" if owner_type == "User" else "an organization's"
    return Check(
        "GitHub",
        "warn",
        f"{name} is {who} private repository: draft pull requests there need GitHub Team or Enterprise Cloud",
        fix=f"if `selfheal pr` fails with {_DRAFTS_NOT_SUPPORTED!r}, run `selfheal pr --no-draft` "
        "or set draft = false under [tool.selfheal.pr]",
    )


def _check_permissions(settings: GitHubSettings, repository: Any, scopes: list[str] | None) -> Check:
    name = settings.full_name
    if scopes is not None and scopes != [""]:
        wanted = {"repo"} if repository.private else {"repo", "public_repo"}
        if not wanted & set(scopes):
            return Check(
                "GitHub",
                "fail",
                f"the classic token's scopes ({', '.join(scopes) or 'none'}) cannot open PRs on {name}",
                fix="give the token the repo scope (public_repo is enough for a public "
                "repository), or use a fine-grained token: " + _GITHUB_WRITE_FIX,
            )
    permissions = repository.permissions
    if permissions is None:
        return Check(
            "GitHub",
            "warn",
            f"GitHub does not report this token's permissions on {name} (an app or workflow token)",
            fix="make sure the job grants contents: write, pull-requests: write, issues: write",
        )
    # For personal tokens this is the user's access; a fine-grained token's own permissions
    # are not readable through the API (the 403 on the first write names them).
    if not permissions.push:
        return Check(
            "GitHub",
            "fail",
            f"GitHub reports read-only access to {name}: branches cannot be pushed",
            fix=_GITHUB_WRITE_FIX,
        )
    return Check("GitHub", "ok", f"GitHub reports push access to {name}")


def _github_checks(settings: GitHubSettings, client: Github, *, draft: bool) -> Iterator[Check]:
    name = settings.full_name
    try:
        repository = client.get_repo(name)
    except GithubException as exc:
        if exc.status == 404:
            yield Check(
                "GitHub",
                "fail",
                f"repository {name} not found, or not visible to this token",
                fix="check GITHUB_OWNER and GITHUB_REPO; a fine-grained token must list this "
                "repository under Repository access (GitHub answers 404, not 403, for a "
                "private repository the token cannot see)",
            )
        else:
            yield _github_failure(exc, f"repository {name}", "Metadata: Read")
        return
    visibility = "private" if repository.private else "public"
    branch = repository.default_branch
    yield Check("GitHub", "ok", f"repository {name} reachable ({visibility}, default branch {branch})")
    yield _check_permissions(settings, repository, client.oauth_scopes)
    try:
        repository.get_branch(branch)
    except GithubException as exc:
        if exc.status == 404:
            yield Check(
                "GitHub",
                "fail",
                f"the default branch {branch!r} has no commits",
                fix="push a first commit: PR branches start from the default branch",
            )
        else:
            yield _github_failure(exc, f"branch {branch}", "Contents: Read and write")
    else:
        yield Check("GitHub", "ok", f"default branch {branch} readable")
    try:
        labels = repository.get_labels().get_page(0)
    except GithubException as exc:
        yield _github_failure(exc, "labels", "Issues: Read and write")
    else:
        yield Check("GitHub", "ok", f"labels readable ({len(labels)} on the first page)")
    try:
        repository.get_pulls(state="open").get_page(0)
    except GithubException as exc:
        yield _github_failure(exc, "pull requests", "Pull requests: Read and write")
    else:
        yield Check("GitHub", "ok", "pull requests readable")
    yield _check_drafts(settings, repository, draft=draft)


def check_github(environ: Mapping[str, str], *, draft: bool = True, timeout: int = 10) -> list[Check]:
    """Token and repository set; repository, branch, labels, PRs readable; push and drafts."""
    missing = []
    if not environ.get("GITHUB_TOKEN", "").strip():
        missing.append(Check("GitHub", "fail", "GITHUB_TOKEN is not set", fix=_GITHUB_AUTH_FIX))
    try:
        settings = GitHubSettings.from_env(environ, require_token=False)
    except ConfigError as exc:
        missing.append(Check("GitHub", "fail", str(exc), fix=_GITHUB_REPO_FIX))
        return missing
    if missing:
        return missing
    checks = [Check("GitHub", "ok", f"GITHUB_TOKEN set (value hidden); repository {settings.full_name}")]
    client = Github(
        base_url=settings.api_url,
        auth=Auth.Token(settings.token),
        timeout=timeout,
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )
    with _quiet_pygithub():
        try:
            checks.extend(_github_checks(settings, client, draft=draft))
        except OSError as exc:  # requests' ConnectionError/Timeout/RetryError are OSErrors
            checks.append(
                Check(
                    "GitHub",
                    "fail",
                    f"cannot connect to {settings.api_url} ({type(exc).__name__})",
                    fix="check GITHUB_API_URL (GitHub Enterprise: https://HOST/api/v3) and the network",
                )
            )
        finally:
            client.close()
    return checks


# --- everything --------------------------------------------------------------------------


def run_doctor(
    *,
    root: Path,
    environ: Mapping[str, str],
    skip_sentry: bool = False,
    skip_github: bool = False,
    draft: bool | None = None,
) -> DoctorReport:
    """Run every check; ``draft=None`` takes the configuration's ``[tool.selfheal.pr] draft``."""
    checks = check_configuration(root)
    if draft is None:
        try:
            draft = load_config(root).pr.draft
        except ConfigError:
            draft = True
    if skip_sentry:
        checks.append(Check("Sentry", "skip", "skipped (--skip-sentry)"))
    else:
        checks.extend(check_sentry(environ))
    if skip_github:
        checks.append(Check("GitHub", "skip", "skipped (--skip-github)"))
    else:
        checks.extend(check_github(environ, draft=draft))
    return DoctorReport(tuple(checks))


def terminal_supports_unicode() -> bool:
    """Whether stdout can print ✓/✗ (a C locale or an old Windows console cannot)."""
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        "✓✗⚠".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True
