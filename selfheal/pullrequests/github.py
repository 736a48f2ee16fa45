"""Carry out a PR plan on GitHub with PyGithub (the only I/O module of ``pullrequests``).

Requests per run: one paginated listing of selfheal PRs (open and recently closed); when
something is created, one read of the default branch, one of its head commit and one
paginated read of the labels. Per created PR: create the branch, commit the task file, open
the draft PR, add the labels (4 writes). Per update: edit the body, add missing labels,
comment, close — each only when needed. Nothing is written when nothing changed.

Retries are ours, not PyGithub's (``retry=None``): PyGithub's default retry re-POSTs a
create after a 5xx, which duplicates work that GitHub already committed. Here a write that
fails with 5xx or a dropped connection is *checked* before it is repeated (the PR is looked
up by its head branch, the file on the branch, the comment by its marker). Rate limits
(403/429) wait ``Retry-After``, else until ``X-RateLimit-Reset`` when the budget is spent,
else at least 60 s (doubling), each wait capped by :attr:`GitHubOptions.max_wait_seconds`;
every wait is counted in the report.

This is the only module that knows PyGithub and requests: every public method of
:class:`GitHubGateway` raises :class:`~selfheal.errors.GitHubError` (one line: what could not
be done, the HTTP status, what to check; ``reason`` keeps GitHub's own message) and nothing
else of theirs. The token never appears in a message.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial, wraps
from typing import Any, Concatenate, ParamSpec, TypeVar

import github
import requests
from github import Auth, Github, GithubException, InputGitTreeElement

from selfheal.errors import GitHubError
from selfheal.pullrequests.plan import ExistingPr, PrDecision
from selfheal.pullrequests.proposal import FileChange
from selfheal.pullrequests.render import LabelSpec, marked_fingerprint, normalized_fingerprint
from selfheal.scrub import scrub_text, strip_url_userinfo
from selfheal.settings import GitHubSettings
from selfheal.sources._http import looks_like_html

__all__ = ["GitHubGateway", "GitHubOptions", "RepositoryAccess", "RequestStats"]

T = TypeVar("T")
P = ParamSpec("P")

#: What a fine-grained token needs on the target repository.
NEEDED_PERMISSIONS = "contents: write, pull requests: write, issues: write (labels, comments)"


@dataclass(frozen=True, slots=True)
class GitHubOptions:
    """How patient and how fast to be with GitHub. Defaults are for production."""

    timeout: int = 15
    per_page: int = 100
    #: Listing pages read at most (100 PRs each), newest updated first.
    max_pages: int = 10
    #: Closed PRs older than this are not listed (a regression reopens only recent ones).
    recent_closed_days: int = 90
    #: Retries after the first attempt, for rate limits, 5xx and dropped connections.
    retries: int = 4
    #: Longest single rate-limit wait accepted; a longer one fails the run with a clear message.
    max_wait_seconds: float = 300.0
    #: Wait for a secondary rate limit that gives neither Retry-After nor a spent budget.
    min_secondary_wait_seconds: float = 60.0
    #: First wait after a 5xx or a dropped connection (doubles per retry).
    backoff_seconds: float = 2.0
    #: Multiplies every actual sleep (tests use a tiny factor; reported waits are unscaled).
    sleep_scale: float = 1.0
    #: PyGithub's spacing of requests and of writes (GitHub asks for serial, spaced writes).
    seconds_between_requests: float | None = 0.25
    seconds_between_writes: float | None = 1.0
    #: Told about every retry before its wait ("retry 1 of 4 in 2.0 s: …"); the CLI prints it.
    on_retry: Callable[[str], None] | None = None

    def paced(self, pace: float) -> GitHubOptions:
        """These options at ``pace`` (:attr:`GitHubSettings.pace`): spacing and sleeps scaled."""
        if pace == 1:
            return self

        def spacing(seconds: float | None) -> float | None:
            return None if seconds is None or pace == 0 else seconds * pace

        return replace(
            self,
            sleep_scale=self.sleep_scale * pace,
            seconds_between_requests=spacing(self.seconds_between_requests),
            seconds_between_writes=spacing(self.seconds_between_writes),
        )

    @classmethod
    def for_tests(cls) -> GitHubOptions:
        """No spacing and near-zero sleeps (the waits are still computed and reported)."""
        return cls(
            timeout=5,
            sleep_scale=0.0001,
            backoff_seconds=0.01,
            seconds_between_requests=None,
            seconds_between_writes=None,
        )


@dataclass(slots=True)
class RequestStats:
    """What this run asked of GitHub."""

    requests: int = 0
    writes: int = 0
    listing_pages: int = 0
    label_writes: int = 0
    rate_limit_waits: list[float] = field(default_factory=list)
    retries: int = 0

    @property
    def waited_seconds(self) -> float:
        return sum(self.rate_limit_waits)


class _MaybeApplied(Exception):  # noqa: N818 - internal signal, never leaves this module
    """A write got a 5xx or lost its connection: it may or may not have happened."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


@dataclass(frozen=True, slots=True)
class RepositoryAccess:
    """What GitHub says about the repository and about this token's access to it."""

    full_name: str
    private: bool
    default_branch: str
    #: Who owns the repository (``"User"`` or ``"Organization"``), when GitHub says.
    owner_type: str | None
    #: Whether GitHub reports push access; ``None`` when it reports no permissions (app and
    #: workflow tokens). For a personal token this is the user's access, not the token's.
    can_push: bool | None
    #: A classic token's OAuth scopes; ``None`` for other tokens (fine-grained, app, workflow).
    oauth_scopes: tuple[str, ...] | None


#: What the public methods turn into a GitHubError (anything else is a bug).
_REMOTE_ERRORS: tuple[type[BaseException], ...] = (
    GithubException,
    requests.RequestException,
    _MaybeApplied,
)


def _translated(
    method: Callable[Concatenate[GitHubGateway, P], T],
) -> Callable[Concatenate[GitHubGateway, P], T]:
    """The boundary of a public method: PyGithub and requests failures leave as GitHubError,
    named after the request that failed."""

    @wraps(method)
    def boundary(self: GitHubGateway, /, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(self, *args, **kwargs)
        except _REMOTE_ERRORS as exc:
            raise self._translate_any(exc) from exc

    return boundary


def _message(exc: GithubException) -> str:
    raw = exc.data.get("data") if isinstance(exc.data, dict) and len(exc.data) == 1 else exc.data
    if isinstance(raw, str | bytes):
        head = raw[:512].encode() if isinstance(raw, str) else raw[:512]
        if looks_like_html(_header(exc, "content-type") or "", head):
            return "GitHub answered with an HTML page: a proxy or captive portal?"
    data = exc.data if isinstance(exc.data, dict) else {}
    parts = [str(data.get("message") or exc.message or "")]
    for err in data.get("errors") or []:
        if isinstance(err, dict) and err.get("message"):
            parts.append(str(err["message"]))
        elif isinstance(err, dict):
            parts.append(" ".join(f"{k}={v}" for k, v in err.items() if k in ("resource", "field", "code")))
    return "; ".join(p for p in parts if p)


def _header(exc: GithubException, name: str) -> str | None:
    headers = exc.headers or {}
    for key, value in headers.items():
        if key.lower() == name:
            return str(value)
    return None


def _is_rate_limit(exc: GithubException) -> bool:
    if exc.status == 429:
        return True
    if exc.status != 403:
        return False
    text = _message(exc).lower()
    return (
        isinstance(exc, github.RateLimitExceededException)
        or "rate limit" in text
        or _header(exc, "retry-after") is not None
        or _header(exc, "x-ratelimit-remaining") == "0"
    )


def _scopes(headers: Mapping[str, Any]) -> tuple[str, ...] | None:
    """A classic token's scopes from ``X-OAuth-Scopes``; ``None`` when absent or empty."""
    raw = next((str(v) for k, v in headers.items() if k.lower() == "x-oauth-scopes"), "")
    scopes = tuple(part.strip() for part in raw.split(",") if part.strip())
    return scopes or None


def _unparsed(result: object) -> bool:
    """True for a PyGithub object built from a body that was not JSON: PyGithub keeps such a
    body as ``{"data": "<the text>"}`` (an HTML page from a proxy answering 200)."""
    raw = getattr(result, "_rawData", None)
    return isinstance(raw, dict) and list(raw) == ["data"] and isinstance(raw["data"], str)


class GitHubGateway:
    """One repository, one PyGithub client, one set of request counters."""

    def __init__(
        self,
        settings: GitHubSettings,
        options: GitHubOptions | None = None,
        *,
        secrets: Sequence[str] = (),
    ) -> None:
        self.settings = settings
        self.options = (options or GitHubOptions()).paced(settings.pace)
        self.stats = RequestStats()
        self._secrets = tuple(secrets) + ((settings.token,) if settings.token else ())
        github.set_log_level(logging.WARNING)  # PyGithub logs retries at INFO to stderr
        self._client = Github(
            base_url=settings.api_url,
            auth=Auth.Token(settings.token) if settings.token else None,
            timeout=self.options.timeout,
            per_page=self.options.per_page,
            retry=None,
            seconds_between_requests=self.options.seconds_between_requests,
            seconds_between_writes=self.options.seconds_between_writes,
            lazy=True,
        )
        self._repo = self._client.get_repo(settings.full_name)  # lazy: no request
        self._pulls: dict[int, Any] = {}
        self._labels: dict[str, str] | None = None
        #: What the request in flight (or the last one) was for: names a failure.
        self._doing = "talk to GitHub"

    def close(self) -> None:
        self._client.close()

    # -- the one place requests are made -------------------------------------------------
    def _tell_retry(self, attempt: int, wait: float, what: str, why: str) -> None:
        if self.options.on_retry is not None:
            self.options.on_retry(
                f"retry {attempt + 1} of {self.options.retries} in {wait:.1f} s: could not {what} ({why})"
            )

    def _sleep(self, seconds: float) -> None:
        time.sleep(seconds * self.options.sleep_scale)

    def _rate_limit_wait(self, exc: GithubException, attempt: int) -> float:
        retry_after = _header(exc, "retry-after")
        if retry_after is not None:
            try:
                return max(0.0, float(retry_after))
            except ValueError:
                pass
        reset = _header(exc, "x-ratelimit-reset")
        if _header(exc, "x-ratelimit-remaining") == "0" and reset is not None:
            try:
                return max(1.0, float(reset) - time.time() + 1)
            except ValueError:
                pass
        return self.options.min_secondary_wait_seconds * (2.0**attempt)

    def _call(self, what: str, fn: Callable[[], T], *, write: bool = False, replay_safe: bool = True) -> T:
        """Run one PyGithub call (= one HTTP request), with our retry rules."""
        attempt = 0
        self._doing = what
        while True:
            self.stats.requests += 1
            if write:
                self.stats.writes += 1
            try:
                result = fn()
                if _unparsed(result):
                    raise ValueError("a body that is not JSON")  # translated just below
                return result
            except RuntimeError as exc:
                # PyGithub refuses a 301 to another host or scheme with a RuntimeError.
                if "redirected" not in str(exc):
                    raise
                raise GitHubError(
                    f"GitHub redirected to another origin while trying to {what}; refusing to follow it "
                    "with the token (check GITHUB_API_URL)",
                    url=strip_url_userinfo(self.settings.api_url),
                ) from exc
            except GithubException as exc:
                if _is_rate_limit(exc):
                    wait = self._rate_limit_wait(exc, attempt)
                    if wait > self.options.max_wait_seconds:
                        raise GitHubError(
                            f"rate limited while trying to {what}: GitHub asks to wait {wait:.0f} s, "
                            f"more than the cap of {self.options.max_wait_seconds:.0f} s; run again later",
                            status=exc.status,
                            reason=self._reason(exc),
                        ) from exc
                    if attempt >= self.options.retries:
                        raise self._translate(exc, what) from exc
                    self.stats.rate_limit_waits.append(wait)
                    self._tell_retry(attempt, wait, what, "rate limited")
                    self._sleep(wait)
                elif exc.status >= 500:
                    if not replay_safe:
                        raise _MaybeApplied(exc) from exc
                    if attempt >= self.options.retries:
                        raise self._translate(exc, what) from exc
                    wait = self.options.backoff_seconds * (2.0**attempt)
                    self._tell_retry(attempt, wait, what, f"HTTP {exc.status}")
                    self._sleep(wait)
                else:
                    raise
            except (AssertionError, TypeError, KeyError, AttributeError, ValueError) as exc:
                # PyGithub builds its objects from whatever body came back; an HTML page
                # (a proxy, a captive portal) or other non-JSON answer fails right there.
                raise GitHubError(
                    f"GitHub answered with an HTML page or another body that is not GitHub's JSON "
                    f"while trying to {what}: a proxy or captive portal? ({type(exc).__name__})",
                    url=strip_url_userinfo(self.settings.api_url),
                ) from exc
            except (requests.ConnectionError, requests.Timeout) as exc:
                if not replay_safe:
                    raise _MaybeApplied(exc) from exc
                if attempt >= self.options.retries:
                    raise GitHubError(
                        f"could not {what}: {type(exc).__name__} after {attempt + 1} attempts "
                        f"({strip_url_userinfo(self.settings.api_url)} unreachable? "
                        "check GITHUB_API_URL and the network)",
                        url=strip_url_userinfo(self.settings.api_url),
                    ) from exc
                wait = self.options.backoff_seconds * (2.0**attempt)
                self._tell_retry(attempt, wait, what, type(exc).__name__)
                self._sleep(wait)
            attempt += 1
            self.stats.retries += 1

    def _clean(self, text: str) -> str:
        return scrub_text(text, secrets=self._secrets).text

    def _reason(self, exc: GithubException) -> str:
        return " ".join(self._clean(_message(exc)).split())[:300]

    def _translate(self, exc: GithubException, what: str) -> GitHubError:
        message = self._reason(exc)
        repo = self.settings.full_name
        if exc.status == 401:
            detail = f"GitHub rejected the token while trying to {what} ({message}); check GITHUB_TOKEN"
        elif exc.status == 403 and not _is_rate_limit(exc):
            detail = (
                f"not allowed to {what} in {repo} ({message}); the token needs these fine-grained "
                f"permissions on the repository: {NEEDED_PERMISSIONS}"
            )
        elif exc.status == 404:
            detail = (
                f"could not {what}: not found; {repo} does not exist or the token cannot see it "
                "(check GITHUB_OWNER, GITHUB_REPO, GITHUB_API_URL and the token's repository access)"
            )
        else:
            detail = f"could not {what}: {message or 'no message'}"
        return GitHubError(detail, status=exc.status, reason=message)

    def _translate_any(self, exc: BaseException) -> GitHubError:
        """A PyGithub / requests failure of the last request as one clear GitHubError."""
        if isinstance(exc, _MaybeApplied):
            exc = exc.cause
        if isinstance(exc, GithubException):
            return self._translate(exc, self._doing)
        return GitHubError(
            f"could not {self._doing}: {type(exc).__name__}", url=strip_url_userinfo(self.settings.api_url)
        )

    # -- reads -----------------------------------------------------------------------------
    @_translated
    def repository(self) -> RepositoryAccess:
        """The repository, its default branch and the access GitHub reports (one read)."""
        repo = self._call("read the repository", self._repo.complete)
        permissions = repo.permissions
        owner = repo.owner
        return RepositoryAccess(
            full_name=str(repo.full_name or self.settings.full_name),
            private=bool(repo.private),
            default_branch=str(repo.default_branch),
            owner_type=getattr(owner, "type", None) if owner is not None else None,
            can_push=None if permissions is None else bool(permissions.push),
            oauth_scopes=_scopes(repo.raw_headers),
        )

    @_translated
    def has_branch(self, name: str) -> bool:
        """Whether branch ``name`` exists (one read; an empty repository has no branch yet)."""
        try:
            self._call(f"read branch {name}", partial(self._repo.get_branch, name))
        except GithubException as exc:
            if exc.status == 404:
                return False
            raise
        return True

    @_translated
    def label_names(self, *, max_pages: int | None = None) -> list[str]:
        """The repository's labels, at most ``max_pages`` pages (default :attr:`GitHubOptions.max_pages`)."""
        listing = self._repo.get_labels()
        names: list[str] = []
        for page_number in range(self.options.max_pages if max_pages is None else max_pages):
            page = self._call("list labels", partial(listing.get_page, page_number))
            names.extend(label.name for label in page)
            if len(page) < self.options.per_page:
                break
        return names

    @_translated
    def open_pr_numbers(self, *, max_pages: int = 1) -> list[int]:
        """Numbers of open pull requests, newest first, at most ``max_pages`` pages."""
        listing = self._repo.get_pulls(state="open")
        numbers: list[int] = []
        for page_number in range(max_pages):
            page = self._call("list pull requests", partial(listing.get_page, page_number))
            numbers.extend(int(pr.number) for pr in page)
            if len(page) < self.options.per_page:
                break
        return numbers

    @_translated
    def list_selfheal_prs(self, branch_prefix: str) -> list[ExistingPr]:
        """Open and recently closed PRs made by selfheal: one paginated listing."""
        listing = self._repo.get_pulls(state="all", sort="updated", direction="desc")
        cutoff = datetime.now(UTC) - timedelta(days=self.options.recent_closed_days)
        found: list[ExistingPr] = []
        for page_number in range(self.options.max_pages):
            page = self._call("list pull requests", partial(listing.get_page, page_number))
            self.stats.listing_pages += 1
            for pr in page:
                body = pr.body or ""
                branch = pr.head.ref
                if not branch.startswith(branch_prefix) and marked_fingerprint(body) is None:
                    continue
                if not self._is_own_branch(pr):
                    continue  # a fork's PR: anyone can copy our marker; never treat it as ours
                self._pulls[pr.number] = pr
                found.append(
                    ExistingPr(
                        number=pr.number,
                        branch=branch,
                        state=pr.state,
                        body=body,
                        title=pr.title or "",
                        merged=pr.merged_at is not None,
                        closed_at=pr.closed_at.strftime("%Y-%m-%dT%H:%M:%SZ") if pr.closed_at else None,
                        labels=tuple(label.name for label in pr.labels),
                        draft=bool(pr.draft),
                        url=pr.html_url or "",
                    )
                )
            if len(page) < self.options.per_page:
                break
            oldest = page[-1].updated_at
            if oldest is not None and oldest.replace(tzinfo=oldest.tzinfo or UTC) < cutoff:
                break
        return found

    @_translated
    def base_branch(self) -> tuple[str, str]:
        """The repository's default branch and its head commit sha (two reads)."""
        name = self._call("read the repository", lambda: self._repo.default_branch)
        ref = self._call(f"read branch {name}", lambda: self._repo.get_git_ref(f"heads/{name}"))
        return str(name), str(ref.object.sha)

    @_translated
    def ensure_labels(self, specs: Iterable[LabelSpec]) -> None:
        """Create the labels the repository lacks, with selfheal's colours (once per run)."""
        wanted = {s.name.lower(): s for s in specs}
        if self._labels is None:
            self._labels = {name.lower(): name for name in self.label_names()}
        for key, spec in wanted.items():
            if key in self._labels:
                continue
            try:
                self._call(
                    f"create label {spec.name}",
                    partial(self._repo.create_label, spec.name, spec.color, description=spec.description),
                    write=True,
                )
            except GithubException as exc:
                if not (exc.status == 422 and "already_exists" in str(exc.data)):
                    raise
            self.stats.label_writes += 1
            self._labels[key] = spec.name

    # -- writes ----------------------------------------------------------------------------
    def _find_open_pr(self, branch: str) -> Any | None:
        head = f"{self.settings.owner}:{branch}"
        listing = self._repo.get_pulls(state="open", head=head)
        page = self._call(f"look up the PR for {branch}", lambda: listing.get_page(0))
        return next((pr for pr in page if self._is_own_branch(pr)), None)

    def _is_own_branch(self, pr: Any) -> bool:
        """The PR's head branch lives in this repository (not in a fork)."""
        head_repo = pr.head.repo
        return head_repo is not None and str(head_repo.full_name).lower() == self.settings.full_name.lower()

    def _create_branch(self, branch: str, base_sha: str) -> bool:
        """True when created now, False when it already existed (a crash left it behind)."""
        try:
            self._call(
                f"create branch {branch}",
                lambda: self._repo.create_git_ref(ref=f"refs/heads/{branch}", sha=base_sha),
                write=True,
            )
        except GithubException as exc:
            if exc.status == 422 and "already exists" in _message(exc).lower():
                return False
            raise
        return True

    def _commit_task_file(self, branch: str, path: str, text: str, *, branch_is_new: bool) -> None:
        if not branch_is_new:
            try:
                self._call(f"read {path}", lambda: self._repo.get_contents(path, ref=branch))
                return  # committed by an earlier, interrupted run
            except GithubException as exc:
                if exc.status != 404:
                    raise
        try:
            self._call(
                f"commit {path}",
                lambda: self._repo.create_file(path, f"selfheal: add task {path}", text, branch=branch),
                write=True,
            )
        except GithubException as exc:
            # A retried PUT whose first attempt went through: the file is there now.
            if not (exc.status == 422 and "sha" in _message(exc)):
                raise

    def _open_pr(self, decision: PrDecision, base: str, *, draft: bool) -> tuple[Any, bool]:
        """(PR, created now?). Finds the PR instead when it already exists."""
        what = f"open the PR for {decision.branch}"
        for _ in range(2):
            try:
                pr = self._call(
                    what,
                    lambda: self._repo.create_pull(
                        base=base, head=decision.branch, title=decision.title, body=decision.body, draft=draft
                    ),
                    write=True,
                    replay_safe=False,
                )
                if not isinstance(pr.number, int):  # a 2xx whose body was not a pull request
                    raise GitHubError(
                        f"GitHub answered with an HTML page or another body that is not a pull request "
                        f"while trying to {what}: a proxy or captive portal?",
                        url=strip_url_userinfo(self.settings.api_url),
                    )
                return pr, True
            except _MaybeApplied:
                found = self._find_open_pr(decision.branch)
                if found is not None:
                    return found, False
            except GithubException as exc:
                message = _message(exc)
                if exc.status == 422 and "already exists" in message:
                    found = self._find_open_pr(decision.branch)
                    if found is not None:
                        return found, False
                if exc.status == 422 and "no commits between" in message.lower():
                    raise GitHubError(
                        f"branch {decision.branch} has no commit beyond {base} (left over from a merged "
                        "PR?); delete the branch and run again",
                        status=422,
                    ) from exc
                if exc.status == 422 and "draft pull requests are not supported" in message.lower():
                    raise GitHubError(
                        f"draft pull requests are not supported in {self.settings.full_name} (a private "
                        "repository on a free plan); run again with --no-draft to open ready-for-review "
                        "PRs, or set [tool.selfheal.pr] draft = false",
                        status=422,
                    ) from exc
                raise
        raise GitHubError(
            f"could not {what}: GitHub kept failing and no PR was found", url=self.settings.api_url
        )

    def _add_comment(self, pr: Any, text: str) -> None:
        marker = text.split("\n", 1)[0]
        for _ in range(2):
            try:
                self._call(
                    f"comment on PR #{pr.number}",
                    lambda: pr.create_issue_comment(text),
                    write=True,
                    replay_safe=False,
                )
                return
            except _MaybeApplied:
                comments = pr.get_issue_comments()
                page = self._call(f"read comments of PR #{pr.number}", partial(comments.get_page, 0))
                if any(marker in (c.body or "") for c in page):
                    return
        raise GitHubError(f"could not comment on PR #{pr.number}", url=self.settings.api_url)

    @_translated
    def create(
        self, decision: PrDecision, task_file: str, *, base: str, base_sha: str, draft: bool
    ) -> tuple[int, str, str]:
        """Branch, task-file commit, draft PR, labels. Returns (number, web URL, "created" | "resumed")."""
        branch_is_new = self._create_branch(decision.branch, base_sha)
        self._commit_task_file(decision.branch, decision.task_file, task_file, branch_is_new=branch_is_new)
        pr, created = self._open_pr(decision, base, draft=draft)
        owner = marked_fingerprint(pr.body)
        if not created and owner is not None and owner != normalized_fingerprint(decision.fingerprint):
            raise GitHubError(
                f"branch {decision.branch} already carries PR #{pr.number} of another task "
                f"(fingerprint {owner}); not touching it"
            )
        if not created and _norm(pr.body) != _norm(decision.body):
            self._call(f"update PR #{pr.number}", lambda: pr.edit(body=decision.body), write=True)
        have = {label.name.lower() for label in (pr.labels or [])} if not created else set()
        missing = [label.name for label in decision.labels if label.name.lower() not in have]
        if missing:
            self.ensure_labels(decision.labels)
            self._call(f"label PR #{pr.number}", lambda: pr.add_to_labels(*missing), write=True)
        self._pulls[int(pr.number)] = pr
        return int(pr.number), str(pr.html_url or ""), "created" if created and branch_is_new else "resumed"

    # -- a proposed fix: one commit through the Git Data API (blobs, tree, commit, ref) ------
    @_translated
    def commit_files(self, branch: str, changes: Sequence[FileChange], message: str) -> str:
        """One commit of ``changes`` on top of ``branch``'s head; returns its sha.

        Reads the ref and its commit (2 requests), then writes one blob per changed file, the
        tree (on the head's tree), the commit and a fast-forward ref update. Blobs, trees and
        commits are content-addressed, so a retried write cannot duplicate anything.
        """
        ref = self._repo.get_git_ref(f"heads/{branch}")  # lazy: the next line reads it
        head_sha = self._call(f"read branch {branch}", lambda: str(ref.object.sha))
        head = self._call(f"read commit {head_sha[:12]}", lambda: self._repo.get_git_commit(head_sha))
        elements: list[InputGitTreeElement] = []
        for change in changes:
            if change.content is None:
                elements.append(InputGitTreeElement(change.path, "100644", "blob", sha=None))
                continue
            encoded = base64.b64encode(change.content).decode("ascii")
            blob = self._call(
                f"upload {change.path}", partial(self._repo.create_git_blob, encoded, "base64"), write=True
            )
            elements.append(InputGitTreeElement(change.path, change.mode, "blob", sha=blob.sha))
        tree = self._call(
            f"write the tree for {branch}",
            partial(self._repo.create_git_tree, elements, base_tree=head.tree),
            write=True,
        )
        commit = self._call(
            f"commit on {branch}", partial(self._repo.create_git_commit, message, tree, [head]), write=True
        )
        self._call(f"update branch {branch}", partial(ref.edit, commit.sha), write=True)
        return str(commit.sha)

    @_translated
    def edit_body(self, number: int, body: str) -> None:
        """Replace a PR's description (one write)."""
        pr = self._pulls.get(number)
        if pr is None:
            pr = self._call(f"read PR #{number}", lambda: self._repo.get_pull(number))
            self._pulls[number] = pr
        self._call(f"update PR #{number}", lambda: pr.edit(body=body), write=True)

    @_translated
    def remove_label_if_present(self, number: int, name: str) -> None:
        """Take ``name`` off a listed PR that carries it (no request when it does not)."""
        pr = self._pulls.get(number)
        if pr is None or name.lower() not in {label.name.lower() for label in (pr.labels or [])}:
            return
        self._remove_label(pr, number, name)

    def _remove_label(self, pr: Any, number: int, name: str) -> None:
        try:
            self._call(
                f"remove label {name} from PR #{number}", partial(pr.remove_from_labels, name), write=True
            )
        except GithubException as exc:
            if exc.status != 404:  # already gone
                raise

    @_translated
    def add_labels(self, number: int, specs: Sequence[LabelSpec]) -> None:
        """Add labels (created with selfheal's colours when missing)."""
        pr = self._pulls.get(number)
        if pr is None:
            pr = self._call(f"read PR #{number}", lambda: self._repo.get_pull(number))
            self._pulls[number] = pr
        self.ensure_labels(specs)
        names = [s.name for s in specs]
        self._call(f"label PR #{number}", lambda: pr.add_to_labels(*names), write=True)

    @_translated
    def update(self, decision: PrDecision) -> tuple[int, str]:
        """Title/body, labels, comment, close: each only when the plan says so. Returns (number, URL)."""
        number = decision.pr_number
        if number is None:
            raise GitHubError(f"update of {decision.branch} has no PR number")
        pr = self._pulls.get(number)
        if pr is None:
            pr = self._call(f"read PR #{number}", lambda: self._repo.get_pull(number))
        if decision.body_changed or decision.title_changed:
            edit = partial(pr.edit, body=decision.body) if decision.body_changed else partial(pr.edit)
            if decision.title_changed:
                edit = partial(edit, title=decision.title)
            self._call(f"update PR #{number}", edit, write=True)  # one PATCH for both
        for name in decision.stale_labels:
            self._remove_label(pr, number, name)
        if decision.missing_labels:
            self.ensure_labels(label for label in decision.labels if label.name in decision.missing_labels)
            self._call(f"label PR #{number}", lambda: pr.add_to_labels(*decision.missing_labels), write=True)
        if decision.comment is not None:
            self._add_comment(pr, decision.comment)
        if decision.close:
            self._call(f"close PR #{number}", lambda: pr.edit(state="closed"), write=True)
        return number, str(pr.html_url or "")


def _norm(body: str | None) -> str:
    return "\n".join(line.rstrip() for line in (body or "").replace("\r\n", "\n").split("\n")).strip()
