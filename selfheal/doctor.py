"""`selfheal doctor`: is this machine (or CI job) ready to pull from Sentry and open draft PRs?

Each check answers one question and, when the answer is no, says how to fix it::

    ✓ configuration: pyproject.toml [tool.selfheal] parses
    ✗ Sentry: the token lacks the scope event:read (HTTP 403 on …/issues/)
        fix: give the internal integration "Issue & Event: Read" and use its token …
    ⚠ GitHub: acme/web is private: draft pull requests there need GitHub Team or Enterprise …

The checks only read: Sentry ``GET organization``, ``GET project`` (or the org's project list
and its first project), ``GET organization issues?limit=1``; GitHub ``GET repository``,
default branch, labels, open pull requests. They go through the same clients the commands
use — :class:`~selfheal.sources._http.ApiClient` for Sentry and
:class:`~selfheal.pullrequests.github.GitHubGateway` for GitHub — with one attempt per request
and no rate-limit wait (a diagnosis should be quick). Their errors carry the HTTP status; this
module turns each into the question it answers and its fix. No token value is ever part of a
line: tokens stay in the settings objects and the clients scrub what they report.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from selfheal.config import load_config
from selfheal.errors import ConfigError, GitHubError, RemoteError
from selfheal.pullrequests.github import GitHubGateway, GitHubOptions, RepositoryAccess
from selfheal.scrub import strip_url_userinfo
from selfheal.settings import GitHubSettings, SentrySettings
from selfheal.sources._http import ApiClient, RetryPolicy
from selfheal.sources._pull import run_sync

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
    """A GET that the check itself interprets: 2xx with JSON, or a 403/404/other 4xx."""

    status: int
    data: Any
    detail: str


class _SentryStopError(Exception):
    """A Sentry check failed in a way that makes the remaining ones pointless."""

    def __init__(self, check: Check) -> None:
        super().__init__(check.summary)
        self.check = check


def _sentry_stop(exc: RemoteError, url: str) -> Check | None:
    """The check for an answer that stops the Sentry checks; ``None`` for a 4xx the caller reads."""
    if exc.status == 401:
        return Check(
            "Sentry",
            "fail",
            "the token was rejected (HTTP 401)",
            fix="SENTRY_AUTH_TOKEN is wrong, expired or revoked, or belongs to another "
            "Sentry (check SENTRY_BASE_URL); " + _SENTRY_AUTH_FIX,
        )
    if exc.status == 429:
        return Check(
            "Sentry", "fail", f"rate limited (HTTP 429) on {url}", fix="wait a minute and run doctor again"
        )
    if exc.status is not None and exc.status >= 500:
        return Check(
            "Sentry",
            "fail",
            f"{url} answered HTTP {exc.status}",
            fix="Sentry is having trouble; try again later (status.sentry.io)",
        )
    if exc.status is None or exc.status < 400:
        # unreachable, too slow, a redirect away, an HTML page or a body that is not JSON
        return Check(
            "Sentry",
            "fail",
            f"GET {url} failed: {exc.detail}",
            fix="check SENTRY_BASE_URL: the web address of Sentry without /api/0 (https://sentry.io, "
            "a region such as https://de.sentry.io, or your self-hosted address), and that this "
            "machine can reach it (proxy, firewall)",
        )
    return None


@dataclass(frozen=True, slots=True)
class _SentryApi:
    """The shared client and the API root it was made for (``…/api/0/``)."""

    client: ApiClient
    root: str

    async def get(self, path: str, params: Mapping[str, str | Sequence[str]] | None = None) -> _SentryAnswer:
        """One GET; raises :class:`_SentryStopError` when the answer stops the checks."""
        try:
            response = await self.client.get_json(path, params)
        except RemoteError as exc:
            stop = _sentry_stop(exc, f"{self.root}{path}")
            if stop is not None:
                raise _SentryStopError(stop) from None
            return _SentryAnswer(exc.status or 0, None, exc.detail)
        return _SentryAnswer(response.status, response.data, "")


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


async def _check_sentry_org(api: _SentryApi, settings: SentrySettings) -> Check:
    org = quote(settings.org, safe="")
    path = f"organizations/{org}/"
    answer = await api.get(path)
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


async def _check_sentry_projects(api: _SentryApi, settings: SentrySettings) -> list[Check]:
    org = quote(settings.org, safe="")
    slugs = list(settings.projects)
    checks = []
    if not slugs:
        listing = f"organizations/{org}/projects/"
        answer = await api.get(listing)
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
        answer = await api.get(path)
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


async def _check_sentry_issues(api: _SentryApi, settings: SentrySettings) -> Check:
    path = f"organizations/{quote(settings.org, safe='')}/issues/"
    params: dict[str, str | Sequence[str]] = {"limit": "1"}
    if settings.projects:
        params["project"] = list(settings.projects)
    answer = await api.get(path, params)
    if answer.status == 200:
        seen = len(answer.data) if isinstance(answer.data, list) else 0
        state = "at least one unresolved issue" if seen else "no unresolved issues right now"
        return Check("Sentry", "ok", f"issues readable (event:read): {state}")
    if answer.status == 403:
        return _forbidden("event:read", path)
    return _unexpected(path, answer)


async def _sentry_reads(settings: SentrySettings, timeout: float) -> list[Check]:
    # One attempt, no rate-limit wait: the checks report what a pull would run into.
    policy = RetryPolicy(
        attempts=1,
        total_timeout=timeout,
        request_timeout=timeout,
        request_deadline=timeout,
        max_rate_limit_wait=0.0,
    )
    root = f"{settings.base_url}/api/0/"
    checks: list[Check] = []
    async with ApiClient(root, settings.token, service="Sentry", concurrency=1, retry=policy) as client:
        api = _SentryApi(client, root)
        try:
            checks.append(await _check_sentry_org(api, settings))
            checks.extend(await _check_sentry_projects(api, settings))
            checks.append(await _check_sentry_issues(api, settings))
        except _SentryStopError as stop:
            checks.append(stop.check)
    return checks


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
    checks.extend(run_sync(_sentry_reads(settings, timeout)))
    return checks


# --- GitHub ------------------------------------------------------------------------------


def _github_failure(exc: GitHubError, what: str, permission: str, api_url: str) -> Check:
    """Explain a GitHub error on ``what``; ``permission`` is the fine-grained one it needs."""
    message = exc.reason
    status = exc.status
    if status is None:
        # unreachable, a redirect to another origin, an HTML page: the gateway's line says which
        return Check(
            "GitHub",
            "fail",
            exc.detail,
            fix=f"check GITHUB_API_URL (now {api_url}; GitHub Enterprise: https://HOST/api/v3) "
            "and that this machine can reach it (proxy, firewall)",
        )
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


def _check_drafts(repository: RepositoryAccess, *, draft: bool) -> Check:
    name = repository.full_name
    if not draft:
        return Check("GitHub", "ok", "pull requests open ready for review (drafts switched off)")
    if not repository.private:
        return Check("GitHub", "ok", f"draft pull requests allowed ({name} is public)")
    who = "a personal account's" if repository.owner_type == "User" else "an organization's"
    return Check(
        "GitHub",
        "warn",
        f"{name} is {who} private repository: draft pull requests there need GitHub Team or Enterprise Cloud",
        fix=f"if `selfheal pr` fails with {_DRAFTS_NOT_SUPPORTED!r}, run `selfheal pr --no-draft` "
        "or set draft = false under [tool.selfheal.pr]",
    )


def _check_permissions(repository: RepositoryAccess) -> Check:
    name = repository.full_name
    scopes = repository.oauth_scopes
    if scopes is not None:
        wanted = {"repo"} if repository.private else {"repo", "public_repo"}
        if not wanted & set(scopes):
            return Check(
                "GitHub",
                "fail",
                f"the classic token's scopes ({', '.join(scopes)}) cannot open PRs on {name}",
                fix="give the token the repo scope (public_repo is enough for a public "
                "repository), or use a fine-grained token: " + _GITHUB_WRITE_FIX,
            )
    if repository.can_push is None:
        return Check(
            "GitHub",
            "warn",
            f"GitHub does not report this token's permissions on {name} (an app or workflow token)",
            fix="make sure the job grants contents: write, pull-requests: write, issues: write",
        )
    # For personal tokens this is the user's access; a fine-grained token's own permissions
    # are not readable through the API (the 403 on the first write names them).
    if not repository.can_push:
        return Check(
            "GitHub",
            "fail",
            f"GitHub reports read-only access to {name}: branches cannot be pushed",
            fix=_GITHUB_WRITE_FIX,
        )
    return Check("GitHub", "ok", f"GitHub reports push access to {name}")


def _check_default_branch(gateway: GitHubGateway, branch: str) -> Check:
    if gateway.has_branch(branch):
        return Check("GitHub", "ok", f"default branch {branch} readable")
    return Check(
        "GitHub",
        "fail",
        f"the default branch {branch!r} has no commits",
        fix="push a first commit: PR branches start from the default branch",
    )


def _check_labels(gateway: GitHubGateway) -> Check:
    labels = gateway.label_names(max_pages=1)
    return Check("GitHub", "ok", f"labels readable ({len(labels)} on the first page)")


def _check_pull_requests(gateway: GitHubGateway) -> Check:
    gateway.open_pr_numbers(max_pages=1)
    return Check("GitHub", "ok", "pull requests readable")


def _github_checks(gateway: GitHubGateway, settings: GitHubSettings, *, draft: bool) -> Iterator[Check]:
    name = settings.full_name
    try:
        repository = gateway.repository()
    except GitHubError as exc:
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
            yield _github_failure(exc, f"repository {name}", "Metadata: Read", settings.api_url)
        return
    visibility = "private" if repository.private else "public"
    branch = repository.default_branch
    yield Check("GitHub", "ok", f"repository {name} reachable ({visibility}, default branch {branch})")
    yield _check_permissions(repository)
    reads: list[tuple[str, str, Callable[[], Check]]] = [
        (f"branch {branch}", "Contents: Read and write", partial(_check_default_branch, gateway, branch)),
        ("labels", "Issues: Read and write", partial(_check_labels, gateway)),
        ("pull requests", "Pull requests: Read and write", partial(_check_pull_requests, gateway)),
    ]
    for what, permission, read in reads:
        try:
            yield read()
        except GitHubError as exc:
            yield _github_failure(exc, what, permission, settings.api_url)
            if exc.status is None:
                return  # nothing else can be learnt from an unreachable GitHub
    yield _check_drafts(repository, draft=draft)


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
    # One attempt per read, no spacing and no rate-limit wait: a diagnosis should be quick.
    options = GitHubOptions(
        timeout=timeout, retries=0, seconds_between_requests=None, seconds_between_writes=None
    )
    gateway = GitHubGateway(settings, options)
    try:
        checks.extend(_github_checks(gateway, settings, draft=draft))
    finally:
        gateway.close()
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
