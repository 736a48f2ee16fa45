"""A stateful fake of the GitHub REST API for tests: a real HTTP server on 127.0.0.1.

It covers what selfheal's draft-PR flow touches (repositories, branches, refs, contents, the
Git Data API's blobs, trees and commits, pull requests with drafts, labels, issue comments,
``rate_limit``) with the JSON shapes and error bodies GitHub documents (``message``,
``documentation_url``, ``errors``), GHE-style paths under ``/api/v3``, ``Link`` pagination and
``X-RateLimit-*`` headers, so the real PyGithub can talk to it over a socket::

    with FakeGitHub() as gh:
        gh.add_repo("acme", "shop", default_branch="trunk")
        client = Github(base_url=gh.base_url, auth=Auth.Token("t"), retry=None)
        ...
        assert [r.method for r in gh.requests] == [...]

Lifecycle, the request log (``requests``, ``writes``), the in-flight counter and faults come
from :class:`~selfheal.testing._server.LoopbackFake`: ``gh.inject(method="POST",
path=r"/pulls$", status=403, body=..., headers={"Retry-After": "60"})`` answers a secondary
rate limit, ``passthrough=True`` performs the request first and then answers the fault (a
gateway timing out after the write was committed), ``gh.inject("html", ...)`` a proxy's page.
Faults apply before the token check. A bug in the fake answers **418** (never 5xx, which
clients would retry) and is kept in ``errors``.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Unpack

from selfheal.testing._server import IncomingRequest, LoopbackFake, Reply, ServerOptions

__all__ = ["FakeGitHub", "FakeIssue", "FakeRepo"]

PREFIX = "/api/v3"
MAX_BODY = 65_536
DOCS = "https://docs.github.com/rest"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sha(*parts: str) -> str:
    return hashlib.sha1("\0".join(parts).encode(), usedforsecurity=False).hexdigest()


@dataclass(slots=True)
class Commit:
    sha: str
    message: str
    parent: str | None
    tree: dict[str, bytes]
    #: Git file modes that are not ``100644`` (``100755``, ``120000``), by path.
    modes: dict[str, str] = field(default_factory=dict)


def _blob_sha(data: bytes) -> str:
    """Git's own blob id (``git hash-object``)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _tree_sha(tree: dict[str, bytes], modes: dict[str, str]) -> str:
    entries = [f"{modes.get(p, '100644')} {p} {_blob_sha(tree[p])}" for p in sorted(tree)]
    return _sha("tree", *entries)


#: File modes the Git Data API accepts in a tree entry, with the type each needs.
TREE_MODES = {"100644": "blob", "100755": "blob", "120000": "blob", "040000": "tree", "160000": "commit"}


@dataclass(slots=True)
class FakeIssue:
    """An issue or pull request (they share one number sequence, as on GitHub)."""

    number: int
    title: str
    body: str | None
    user: str
    is_pr: bool
    state: str = "open"
    labels: list[str] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)
    created_at: str = field(default_factory=_now)
    updated_at: str = field(default_factory=_now)
    closed_at: str | None = None
    head: str = ""
    base: str = ""
    draft: bool = False
    merged_at: str | None = None
    #: ``owner/name`` of the fork the head branch lives in (``None``: the same repository).
    head_repo: str | None = None


@dataclass(slots=True)
class FakeRepo:
    owner: str
    name: str
    default_branch: str = "main"
    private: bool = False
    #: False mimics a private repository on a free plan (422 on draft PRs).
    allow_drafts: bool = True
    #: The add-labels endpoint creates unknown labels (GitHub does, colour ededed).
    auto_create_labels: bool = True
    id: int = 0
    refs: dict[str, str] = field(default_factory=dict)
    commits: dict[str, Commit] = field(default_factory=dict)
    #: Git Data API objects: blobs by sha, trees (path -> bytes, path -> mode) by sha.
    blobs: dict[str, bytes] = field(default_factory=dict)
    trees: dict[str, tuple[dict[str, bytes], dict[str, str]]] = field(default_factory=dict)
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)
    issues: dict[int, FakeIssue] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def files(self, branch: str) -> dict[str, str]:
        """The files on ``branch`` as text."""
        return {p: b.decode("utf-8") for p, b in self.commits[self.refs[branch]].tree.items()}

    def pulls(self) -> list[FakeIssue]:
        return [i for i in self.issues.values() if i.is_pr]


class _ApiError(Exception):
    """GitHub's answer to a request it refuses (raised inside the routes)."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def _error(status: int, message: str, errors: list[dict[str, Any]] | None = None, doc: str = "") -> _ApiError:
    body: dict[str, Any] = {"message": message, "documentation_url": f"{DOCS}{doc}", "status": str(status)}
    if errors is not None:
        body["errors"] = errors
    return _ApiError(status, body)


def _not_found() -> _ApiError:
    return _error(404, "Not Found")


class FakeGitHub(LoopbackFake):
    """GitHub's REST API over :attr:`repos`; start it with ``with FakeGitHub() as gh:`` or
    :meth:`start`/:meth:`stop`. With a ``token``, requests must send ``Authorization: token
    <token>`` (else 401); ``rate_limit`` is what ``X-RateLimit-Limit`` says."""

    json_content_type = "application/json; charset=utf-8"

    def __init__(
        self, *, token: str | None = None, rate_limit: int = 5000, **server: Unpack[ServerOptions]
    ) -> None:
        super().__init__(token=token, path_prefix=PREFIX, **server)
        self.rate_limit = rate_limit
        self.repos: dict[str, FakeRepo] = {}
        self._ids = itertools.count(1000)

    # -- test set-up and inspection ------------------------------------------------------
    def add_repo(
        self,
        owner: str = "acme",
        name: str = "shop",
        *,
        default_branch: str = "main",
        private: bool = False,
        allow_drafts: bool = True,
        files: dict[str, str] | None = None,
    ) -> FakeRepo:
        with self._lock:
            repo = FakeRepo(owner, name, default_branch, private, allow_drafts, id=next(self._ids))
            tree = {p: t.encode() for p, t in (files or {"README.md": f"# {name}\n"}).items()}
            root = Commit(_sha(owner, name, "root"), "Initial commit", None, tree)
            repo.commits[root.sha] = root
            repo.refs[default_branch] = root.sha
            self.repos[repo.full_name.lower()] = repo
            return repo

    def repo(self, full_name: str = "acme/shop") -> FakeRepo:
        return self.repos[full_name.lower()]

    def close_pr(
        self, number: int, *, repo: str = "acme/shop", merged: bool = False, at: str | None = None
    ) -> None:
        """Close (or merge) a PR as a person would, at time ``at`` (default now)."""
        with self._lock:
            pr = self.repo(repo).issues[number]
            pr.state = "closed"
            pr.closed_at = at or _now()
            pr.updated_at = pr.closed_at
            if merged:
                pr.merged_at = pr.closed_at

    def seed_pull(
        self,
        branch: str,
        *,
        repo: str = "acme/shop",
        title: str = "seeded",
        body: str = "",
        labels: tuple[str, ...] = (),
        draft: bool = True,
        fork: str | None = None,
    ) -> FakeIssue:
        """Put a branch with one commit and an open PR for it straight into the state.

        ``fork`` (``owner/name``) makes it a PR from a fork: no branch is added here.
        """
        with self._lock:
            state = self.repo(repo)
            parent = state.commits[state.refs[state.default_branch]]
            tree = {**parent.tree, f".seed/{branch}.md": b"seed\n"}
            commit = Commit(_sha(parent.sha, branch), f"seed {branch}", parent.sha, tree, dict(parent.modes))
            if fork is None:
                state.commits[commit.sha] = commit
                state.refs[branch] = commit.sha
            for name in labels:
                state.labels.setdefault(
                    name.lower(),
                    {"id": next(self._ids), "name": name, "color": "ededed", "description": None},
                )
            number = max(state.issues, default=0) + 1
            pr = FakeIssue(
                number,
                title,
                body,
                state.owner,
                True,
                labels=list(labels),
                head=branch,
                base=state.default_branch,
                draft=draft,
                head_repo=fork,
            )
            state.issues[number] = pr
            return pr

    # -- JSON shapes ---------------------------------------------------------------------
    def _url(self, path: str) -> str:
        return f"{self._origin()}{PREFIX}{path}"

    def _html(self, path: str) -> str:
        return f"{self._origin()}{path}"

    def _user(self, login: str) -> dict[str, Any]:
        return {
            "login": login,
            "id": 1,
            "type": "User",
            "url": self._url(f"/users/{login}"),
            "html_url": self._html(f"/{login}"),
        }

    def _repo_json(self, repo: FakeRepo) -> dict[str, Any]:
        path = f"/repos/{repo.full_name}"
        return {
            "id": repo.id,
            "node_id": f"R_{repo.id}",
            "name": repo.name,
            "full_name": repo.full_name,
            "owner": self._user(repo.owner),
            "private": repo.private,
            "default_branch": repo.default_branch,
            "url": self._url(path),
            "html_url": self._html(f"/{repo.full_name}"),
            "pulls_url": self._url(f"{path}/pulls{{/number}}"),
            "issues_url": self._url(f"{path}/issues{{/number}}"),
            "permissions": {"admin": False, "push": True, "pull": True},
        }

    def _label_json(self, repo: FakeRepo, label: dict[str, Any]) -> dict[str, Any]:
        quoted = urllib.parse.quote(label["name"], safe="")
        return {
            "id": label["id"],
            "node_id": f"LA_{label['id']}",
            "url": self._url(f"/repos/{repo.full_name}/labels/{quoted}"),
            "name": label["name"],
            "color": label["color"],
            "description": label["description"],
            "default": False,
        }

    def _ref_json(self, repo: FakeRepo, branch: str) -> dict[str, Any]:
        sha = repo.refs[branch]
        return {
            "ref": f"refs/heads/{branch}",
            "node_id": f"REF_{_sha(branch)[:8]}",
            "url": self._url(f"/repos/{repo.full_name}/git/refs/heads/{branch}"),
            "object": {
                "sha": sha,
                "type": "commit",
                "url": self._url(f"/repos/{repo.full_name}/git/commits/{sha}"),
            },
        }

    def _commit_json(self, repo: FakeRepo, commit: Commit) -> dict[str, Any]:
        return {
            "sha": commit.sha,
            "node_id": f"C_{commit.sha[:8]}",
            "url": self._url(f"/repos/{repo.full_name}/git/commits/{commit.sha}"),
            "html_url": self._html(f"/{repo.full_name}/commit/{commit.sha}"),
            "message": commit.message,
            "parents": [] if commit.parent is None else [{"sha": commit.parent}],
            "tree": {
                "sha": (tree := _tree_sha(commit.tree, commit.modes)),
                "url": self._url(f"/repos/{repo.full_name}/git/trees/{tree}"),
            },
            "author": {"name": "selfheal", "email": "selfheal@localhost", "date": _now()},
            "committer": {"name": "selfheal", "email": "selfheal@localhost", "date": _now()},
        }

    def _branch_part(self, repo: FakeRepo, branch: str) -> dict[str, Any]:
        return {
            "label": f"{repo.owner}:{branch}",
            "ref": branch,
            "sha": repo.refs.get(branch, ""),
            "user": self._user(repo.owner),
            "repo": self._repo_json(repo),
        }

    def _fork_part(self, pr: FakeIssue) -> dict[str, Any]:
        full_name = pr.head_repo or ""
        owner, _, name = full_name.partition("/")
        return {
            "label": f"{owner}:{pr.head}",
            "ref": pr.head,
            "sha": _sha(full_name, pr.head),
            "user": self._user(owner),
            "repo": {
                "id": 999,
                "name": name,
                "full_name": full_name,
                "owner": self._user(owner),
                "private": False,
                "fork": True,
                "url": self._url(f"/repos/{full_name}"),
                "html_url": self._html(f"/{full_name}"),
            },
        }

    def _issue_json(self, repo: FakeRepo, issue: FakeIssue) -> dict[str, Any]:
        path = f"/repos/{repo.full_name}/issues/{issue.number}"
        out: dict[str, Any] = {
            "id": 10_000 + issue.number,
            "node_id": f"I_{issue.number}",
            "number": issue.number,
            "url": self._url(path),
            "html_url": self._html(f"/{repo.full_name}/{'pull' if issue.is_pr else 'issues'}/{issue.number}"),
            "comments_url": self._url(f"{path}/comments"),
            "labels_url": self._url(f"{path}/labels{{/name}}"),
            "title": issue.title,
            "body": issue.body,
            "state": issue.state,
            "user": self._user(issue.user),
            "labels": [self._label_json(repo, repo.labels[n.lower()]) for n in issue.labels],
            "comments": len(issue.comments),
            "created_at": issue.created_at,
            "updated_at": issue.updated_at,
            "closed_at": issue.closed_at,
        }
        if issue.is_pr:
            out["pull_request"] = {"url": self._url(f"/repos/{repo.full_name}/pulls/{issue.number}")}
        return out

    def _pr_json(self, repo: FakeRepo, pr: FakeIssue, *, full: bool) -> dict[str, Any]:
        path = f"/repos/{repo.full_name}/pulls/{pr.number}"
        issue_path = f"/repos/{repo.full_name}/issues/{pr.number}"
        out: dict[str, Any] = {
            "id": 20_000 + pr.number,
            "node_id": f"PR_{pr.number}",
            "number": pr.number,
            "url": self._url(path),
            "html_url": self._html(f"/{repo.full_name}/pull/{pr.number}"),
            "issue_url": self._url(issue_path),
            "comments_url": self._url(f"{issue_path}/comments"),
            "state": pr.state,
            "locked": False,
            "title": pr.title,
            "body": pr.body,
            "draft": pr.draft,
            "user": self._user(pr.user),
            "labels": [self._label_json(repo, repo.labels[n.lower()]) for n in pr.labels],
            "created_at": pr.created_at,
            "updated_at": pr.updated_at,
            "closed_at": pr.closed_at,
            "merged_at": pr.merged_at,
            "head": self._branch_part(repo, pr.head) if pr.head_repo is None else self._fork_part(pr),
            "base": self._branch_part(repo, pr.base),
        }
        if full:  # GitHub's list endpoint leaves these out; PyGithub fetches them lazily.
            out.update({"merged": pr.merged_at is not None, "comments": len(pr.comments), "commits": 1})
        return out

    # -- request handling ----------------------------------------------------------------
    def _reply(self, request: IncomingRequest, in_flight: int) -> Reply:
        with self._lock:  # one request at a time changes the repositories
            headers = self._rate_headers()
            faulted = self._faulted(request, headers, lambda: self._api_reply(request, headers))
            return faulted if faulted is not None else self._api_reply(request, headers)

    def _error_body(self, status: int) -> Any:
        return {"message": f"Injected {status}", "documentation_url": DOCS, "status": str(status)}

    def _api_reply(self, request: IncomingRequest, headers: list[tuple[str, str]]) -> Reply:
        try:
            if self.token is not None and request.authorization != f"token {self.token}":
                raise _error(401, "Bad credentials")
            status, payload, extra = self._route(request)
        except _ApiError as refusal:
            status, payload, extra = refusal.status, refusal.body, refusal.headers
        reply = self._payload(status, payload, headers)
        for name, value in extra.items():
            reply.set_header(name, value)
        reply.delay = self.latency
        return reply

    def _repo_or_404(self, owner: str, name: str) -> FakeRepo:
        repo = self.repos.get(f"{owner}/{name}".lower())
        if repo is None:
            raise _not_found()
        return repo

    def _route(self, request: IncomingRequest) -> tuple[int, Any, dict[str, str]]:
        method, query, body, raw_path = request.method, request.query, request.body, request.target
        rest = self._route_target(request)
        if rest is None:
            raise _not_found()
        match = re.fullmatch(r"/repos/([^/]+)/([^/]+)(/.*)?", rest)
        if match is None:
            if rest == "/rate_limit" and method == "GET":
                core = {"limit": self.rate_limit, "remaining": self.rate_limit, "reset": 0, "used": 0}
                return 200, {"resources": {"core": core}, "rate": core}, {}
            raise _not_found()
        repo = self._repo_or_404(match.group(1), match.group(2))
        sub = match.group(3) or ""
        one = {k: v[-1] for k, v in query.items()}
        if sub == "" and method == "GET":
            return 200, self._repo_json(repo), {}
        if m := re.fullmatch(r"/branches/(.+)", sub):
            return self._get_branch(repo, m.group(1)) if method == "GET" else self._method_not_allowed()
        if m := re.fullmatch(r"/git/refs?/heads/(.+)", sub):
            if m.group(1) not in repo.refs:
                raise _not_found()
            if method == "PATCH" and sub.startswith("/git/refs/"):
                return self._update_ref(repo, m.group(1), body)
            if method != "GET":
                return self._method_not_allowed()
            return 200, self._ref_json(repo, m.group(1)), {}
        if sub == "/git/refs" and method == "POST":
            return self._create_ref(repo, body)
        if m := re.fullmatch(r"/git/commits/([0-9a-f]+)", sub):
            commit = repo.commits.get(m.group(1))
            if commit is None:
                raise _not_found()
            return 200, self._commit_json(repo, commit), {}
        if sub == "/git/blobs" and method == "POST":
            return self._create_blob(repo, body)
        if sub == "/git/trees" and method == "POST":
            return self._create_tree(repo, body)
        if sub == "/git/commits" and method == "POST":
            return self._create_commit(repo, body)
        if m := re.fullmatch(r"/contents/(.+)", sub):
            if method == "GET":
                return self._get_contents(repo, m.group(1), one.get("ref") or repo.default_branch)
            if method == "PUT":
                return self._put_contents(repo, m.group(1), body)
            return self._method_not_allowed()
        if sub == "/pulls":
            if method == "GET":
                return self._list_pulls(repo, one, raw_path)
            if method == "POST":
                return self._create_pull(repo, body)
        if m := re.fullmatch(r"/pulls/(\d+)", sub):
            pr = self._issue_or_404(repo, int(m.group(1)), pr=True)
            if method == "GET":
                return 200, self._pr_json(repo, pr, full=True), {}
            if method == "PATCH":
                self._edit_issue(pr, body)
                return 200, self._pr_json(repo, pr, full=True), {}
        if m := re.fullmatch(r"/issues/(\d+)", sub):
            issue = self._issue_or_404(repo, int(m.group(1)), pr=False)
            if method == "GET":
                return 200, self._issue_json(repo, issue), {}
            if method == "PATCH":
                self._edit_issue(issue, body)
                return 200, self._issue_json(repo, issue), {}
        if m := re.fullmatch(r"/issues/(\d+)/labels", sub):
            issue = self._issue_or_404(repo, int(m.group(1)), pr=False)
            if method == "GET":
                return 200, [self._label_json(repo, repo.labels[n.lower()]) for n in issue.labels], {}
            if method == "POST":
                return self._add_labels(repo, issue, body)
        if (m := re.fullmatch(r"/issues/(\d+)/labels/(.+)", sub)) and method == "DELETE":
            issue = self._issue_or_404(repo, int(m.group(1)), pr=False)
            kept = [n for n in issue.labels if n.lower() != m.group(2).lower()]
            if len(kept) == len(issue.labels):
                raise _error(404, "Label does not exist")
            issue.labels = kept
            issue.updated_at = _now()
            return 200, [self._label_json(repo, repo.labels[n.lower()]) for n in issue.labels], {}
        if m := re.fullmatch(r"/issues/(\d+)/comments", sub):
            issue = self._issue_or_404(repo, int(m.group(1)), pr=False)
            if method == "GET":
                return self._page(issue.comments, one, raw_path)
            if method == "POST":
                return self._add_comment(repo, issue, body)
        if sub == "/labels":
            if method == "GET":
                labels = [self._label_json(repo, label) for label in repo.labels.values()]
                return self._page(labels, one, raw_path)
            if method == "POST":
                return self._create_label(repo, body)
        if m := re.fullmatch(r"/labels/(.+)", sub):
            label = repo.labels.get(m.group(1).lower())
            if label is None:
                raise _not_found()
            return 200, self._label_json(repo, label), {}
        raise _not_found()

    @staticmethod
    def _method_not_allowed() -> tuple[int, Any, dict[str, str]]:
        raise _error(404, "Not Found")

    def _issue_or_404(self, repo: FakeRepo, number: int, *, pr: bool) -> FakeIssue:
        issue = repo.issues.get(number)
        if issue is None or (pr and not issue.is_pr):
            raise _not_found()
        return issue

    def _page(
        self, items: list[Any], query: dict[str, str], raw_path: str
    ) -> tuple[int, Any, dict[str, str]]:
        per_page = max(1, min(100, int(query.get("per_page") or 30)))
        page = max(1, int(query.get("page") or 1))
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        links = []
        parsed = urllib.parse.urlsplit(raw_path)
        params = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))

        def link(number: int, rel: str) -> str:
            params["page"] = str(number)
            url = self._url(parsed.path.removeprefix(PREFIX)) + "?" + urllib.parse.urlencode(params)
            return f'<{url}>; rel="{rel}"'

        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links += [link(1, "first"), link(page - 1, "prev")]
        return 200, chunk, ({"Link": ", ".join(links)} if links else {})

    def _get_branch(self, repo: FakeRepo, branch: str) -> tuple[int, Any, dict[str, str]]:
        if branch not in repo.refs:
            raise _error(404, "Branch not found")
        commit = repo.commits[repo.refs[branch]]
        return 200, {"name": branch, "commit": self._commit_json(repo, commit), "protected": False}, {}

    def _create_ref(self, repo: FakeRepo, body: Any) -> tuple[int, Any, dict[str, str]]:
        if not isinstance(body, dict) or "ref" not in body or "sha" not in body:
            raise _error(422, "Invalid request.", doc="/git/refs#create-a-reference")
        ref, sha = str(body["ref"]), str(body["sha"])
        if not ref.startswith("refs/") or ref.count("/") < 2:
            raise _error(422, f"{ref} is not a valid ref name.", doc="/git/refs#create-a-reference")
        if sha not in repo.commits:
            raise _error(422, "Object does not exist", doc="/git/refs#create-a-reference")
        if not ref.startswith("refs/heads/"):
            raise _error(422, "Reference update failed")
        branch = ref.removeprefix("refs/heads/")
        if branch in repo.refs:
            raise _error(422, "Reference already exists", doc="/git/refs#create-a-reference")
        repo.refs[branch] = sha
        return (
            201,
            self._ref_json(repo, branch),
            {"Location": self._url(f"/repos/{repo.full_name}/git/{ref}")},
        )

    # -- Git Data API (docs.github.com/rest/git): blobs, trees, commits, ref updates -----------
    def _create_blob(self, repo: FakeRepo, body: Any) -> tuple[int, Any, dict[str, str]]:
        if not isinstance(body, dict) or not isinstance(body.get("content"), str):
            raise _error(
                422, 'Invalid request.\n\n"content" wasn\'t supplied.', doc="/git/blobs#create-a-blob"
            )
        encoding = body.get("encoding", "utf-8")
        if encoding == "base64":
            try:
                data = base64.b64decode(body["content"], validate=True)
            except ValueError:
                raise _error(422, "content is not valid Base64") from None
        elif encoding == "utf-8":
            data = body["content"].encode("utf-8")
        else:
            raise _error(422, f"encoding {encoding!r} is not one of utf-8, base64")
        sha = _blob_sha(data)
        repo.blobs[sha] = data
        url = self._url(f"/repos/{repo.full_name}/git/blobs/{sha}")
        return 201, {"sha": sha, "url": url}, {"Location": url}

    def _find_tree(self, repo: FakeRepo, sha: str) -> tuple[dict[str, bytes], dict[str, str]] | None:
        if sha in repo.trees:
            return repo.trees[sha]
        for commit in repo.commits.values():
            if _tree_sha(commit.tree, commit.modes) == sha:
                return commit.tree, commit.modes
        return None

    def _create_tree(self, repo: FakeRepo, body: Any) -> tuple[int, Any, dict[str, str]]:
        doc = "/git/trees#create-a-tree"
        if not isinstance(body, dict) or not isinstance(body.get("tree"), list):
            raise _error(422, 'Invalid request.\n\n"tree" wasn\'t supplied.', doc=doc)
        files: dict[str, bytes] = {}
        modes: dict[str, str] = {}
        if body.get("base_tree") is not None:
            found = self._find_tree(repo, str(body["base_tree"]))
            if found is None:
                raise _error(422, "base_tree is not a valid tree oid", doc=doc)
            files, modes = dict(found[0]), dict(found[1])
        for entry in body["tree"]:
            if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
                raise _error(422, "Invalid tree info", doc=doc)
            path, mode, kind = entry["path"], entry.get("mode"), entry.get("type")
            if mode not in TREE_MODES or TREE_MODES[mode] != kind or path.startswith("/") or not path:
                raise _error(422, f"Invalid tree info: mode {mode!r}, type {kind!r} for {path!r}", doc=doc)
            if kind != "blob":
                raise _error(422, "fake GitHub: only blob entries are supported", doc=doc)
            if "sha" in entry and entry["sha"] is None:
                files.pop(path, None)  # deletion
                modes.pop(path, None)
                continue
            if "content" in entry:
                data = str(entry["content"]).encode("utf-8")
            elif entry.get("sha") in repo.blobs:
                data = repo.blobs[str(entry["sha"])]
            else:
                raise _error(422, f"tree.sha {entry.get('sha')} is not a valid blob", doc=doc)
            files[path] = data
            if mode == "100644":
                modes.pop(path, None)
            else:
                modes[path] = str(mode)
        sha = _tree_sha(files, modes)
        repo.trees[sha] = (files, modes)
        listing = [
            {
                "path": p,
                "mode": modes.get(p, "100644"),
                "type": "blob",
                "sha": _blob_sha(files[p]),
                "size": len(files[p]),
                "url": self._url(f"/repos/{repo.full_name}/git/blobs/{_blob_sha(files[p])}"),
            }
            for p in sorted(files)
        ]
        url = self._url(f"/repos/{repo.full_name}/git/trees/{sha}")
        return 201, {"sha": sha, "url": url, "tree": listing, "truncated": False}, {"Location": url}

    def _create_commit(self, repo: FakeRepo, body: Any) -> tuple[int, Any, dict[str, str]]:
        doc = "/git/commits#create-a-commit"
        if not isinstance(body, dict) or not isinstance(body.get("message"), str) or "tree" not in body:
            raise _error(422, 'Invalid request.\n\n"message" and "tree" are required.', doc=doc)
        found = self._find_tree(repo, str(body["tree"]))
        if found is None:
            raise _error(422, "Tree SHA does not exist", doc=doc)
        parents = [str(p) for p in body.get("parents") or []]
        if any(p not in repo.commits for p in parents):
            raise _error(422, "Parent SHA does not exist or is not a commit object", doc=doc)
        if len(parents) > 1:
            raise _error(422, "fake GitHub: merge commits are not supported", doc=doc)
        parent = parents[0] if parents else None
        commit = Commit(
            _sha(parent or "", str(body["tree"]), body["message"], str(len(repo.commits))),
            body["message"],
            parent,
            dict(found[0]),
            dict(found[1]),
        )
        repo.commits[commit.sha] = commit
        url = self._url(f"/repos/{repo.full_name}/git/commits/{commit.sha}")
        return 201, self._commit_json(repo, commit), {"Location": url}

    def _update_ref(self, repo: FakeRepo, branch: str, body: Any) -> tuple[int, Any, dict[str, str]]:
        doc = "/git/refs#update-a-reference"
        if not isinstance(body, dict) or not isinstance(body.get("sha"), str):
            raise _error(422, 'Invalid request.\n\n"sha" wasn\'t supplied.', doc=doc)
        sha = body["sha"]
        if sha not in repo.commits:
            raise _error(422, "Object does not exist", doc=doc)
        current = repo.refs[branch]
        if not body.get("force") and not self._is_ancestor(repo, current, sha):
            raise _error(422, "Update is not a fast forward", doc=doc)
        repo.refs[branch] = sha
        return 200, self._ref_json(repo, branch), {}

    def _content_json(self, repo: FakeRepo, path: str, data: bytes, branch: str) -> dict[str, Any]:
        quoted = urllib.parse.quote(path)
        return {
            "type": "file",
            "encoding": "base64",
            "size": len(data),
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "content": base64.b64encode(data).decode(),
            "sha": _sha("blob", data.decode("utf-8", "replace")),
            "url": self._url(f"/repos/{repo.full_name}/contents/{quoted}?ref={urllib.parse.quote(branch)}"),
            "html_url": self._html(f"/{repo.full_name}/blob/{branch}/{quoted}"),
        }

    def _get_contents(self, repo: FakeRepo, path: str, ref: str) -> tuple[int, Any, dict[str, str]]:
        sha = repo.refs.get(ref, ref)
        commit = repo.commits.get(sha)
        if commit is None or path not in commit.tree:
            raise _not_found()
        return 200, self._content_json(repo, path, commit.tree[path], ref), {}

    def _put_contents(self, repo: FakeRepo, path: str, body: Any) -> tuple[int, Any, dict[str, str]]:
        if not isinstance(body, dict) or "message" not in body or "content" not in body:
            raise _error(422, 'Invalid request.\n\n"message" and "content" are required.')
        branch = str(body.get("branch") or repo.default_branch)
        if branch not in repo.refs:
            raise _error(404, f"Branch {branch} not found")
        try:
            data = base64.b64decode(str(body["content"]), validate=True)
        except ValueError:
            raise _error(422, "content is not valid Base64") from None
        parent = repo.commits[repo.refs[branch]]
        existed = path in parent.tree
        if existed:
            current = _sha("blob", parent.tree[path].decode("utf-8", "replace"))
            if "sha" not in body:
                raise _error(422, 'Invalid request.\n\n"sha" wasn\'t supplied.')
            if body["sha"] != current:
                raise _error(409, f"{path} does not match {body['sha']}")
        tree = {**parent.tree, path: data}
        commit = Commit(
            _sha(parent.sha, path, str(body["message"]), str(len(repo.commits))),
            str(body["message"]),
            parent.sha,
            tree,
            dict(parent.modes),
        )
        repo.commits[commit.sha] = commit
        repo.refs[branch] = commit.sha
        payload = {
            "content": self._content_json(repo, path, data, branch),
            "commit": self._commit_json(repo, commit),
        }
        return (200 if existed else 201), payload, {}

    def _head_branch(self, repo: FakeRepo, head: str) -> str:
        owner, _, branch = head.rpartition(":")
        if owner and owner.lower() != repo.owner.lower():
            return ""  # forks are not modelled
        return branch

    def _list_pulls(
        self, repo: FakeRepo, query: dict[str, str], raw_path: str
    ) -> tuple[int, Any, dict[str, str]]:
        state = query.get("state", "open")
        if state not in ("open", "closed", "all"):
            raise _error(
                422, "Validation Failed", [{"resource": "PullRequest", "field": "state", "code": "invalid"}]
            )
        pulls = [p for p in repo.pulls() if state in ("all", p.state)]
        if "head" in query:
            branch = self._head_branch(repo, query["head"])
            pulls = [p for p in pulls if p.head == branch and p.head_repo is None]
        if "base" in query:
            pulls = [p for p in pulls if p.base == query["base"]]
        sort = query.get("sort", "created")
        direction = query.get("direction", "desc" if sort == "created" else "asc")
        key = "updated_at" if sort == "updated" else "created_at"
        pulls.sort(key=lambda p: (getattr(p, key), p.number), reverse=direction == "desc")
        return self._page([self._pr_json(repo, p, full=False) for p in pulls], query, raw_path)

    def _check_body(self, text: Any, resource: str) -> None:
        if isinstance(text, str) and len(text) > MAX_BODY:
            raise _error(
                422,
                "Validation Failed",
                [
                    {
                        "resource": resource,
                        "code": "custom",
                        "field": "body",
                        "message": f"body is too long (maximum is {MAX_BODY} characters)",
                    }
                ],
            )

    def _create_pull(self, repo: FakeRepo, body: Any) -> tuple[int, Any, dict[str, str]]:
        if not isinstance(body, dict) or not body.get("head") or not body.get("base"):
            raise _error(
                422,
                "Validation Failed",
                [{"resource": "PullRequest", "field": "head", "code": "missing_field"}],
            )
        head = self._head_branch(repo, str(body["head"]))
        base = str(body["base"])
        if head not in repo.refs:
            raise _error(
                422, "Validation Failed", [{"resource": "PullRequest", "field": "head", "code": "invalid"}]
            )
        if base not in repo.refs:
            raise _error(
                422, "Validation Failed", [{"resource": "PullRequest", "field": "base", "code": "invalid"}]
            )
        if not body.get("title"):
            raise _error(
                422,
                "Validation Failed",
                [{"resource": "PullRequest", "field": "title", "code": "missing_field"}],
            )
        self._check_body(body.get("body"), "Issue")
        if body.get("draft") and not repo.allow_drafts:
            raise _error(422, "Draft pull requests are not supported in this repository.")
        for pr in repo.pulls():
            if pr.state == "open" and pr.head == head and pr.base == base and pr.head_repo is None:
                raise _error(
                    422,
                    "Validation Failed",
                    [
                        {
                            "resource": "PullRequest",
                            "code": "custom",
                            "message": f"A pull request already exists for {repo.owner}:{head}.",
                        }
                    ],
                )
        if repo.refs[head] == repo.refs[base] or self._is_ancestor(repo, repo.refs[head], repo.refs[base]):
            raise _error(
                422,
                "Validation Failed",
                [
                    {
                        "resource": "PullRequest",
                        "code": "custom",
                        "message": f"No commits between {base} and {head}",
                    }
                ],
            )
        number = max(repo.issues, default=0) + 1
        pr = FakeIssue(
            number=number,
            title=str(body["title"]),
            body=body.get("body"),
            user=repo.owner,
            is_pr=True,
            head=head,
            base=base,
            draft=bool(body.get("draft", False)),
        )
        repo.issues[number] = pr
        location = self._url(f"/repos/{repo.full_name}/pulls/{number}")
        return 201, self._pr_json(repo, pr, full=True), {"Location": location}

    @staticmethod
    def _is_ancestor(repo: FakeRepo, head_sha: str, base_sha: str) -> bool:
        """True when every commit of ``head`` is already on ``base``."""
        sha: str | None = base_sha
        while sha is not None:
            if sha == head_sha:
                return True
            sha = repo.commits[sha].parent
        return False

    def _edit_issue(self, issue: FakeIssue, body: Any) -> None:
        if not isinstance(body, dict):
            raise _error(400, "Problems parsing JSON")
        self._check_body(body.get("body"), "Issue")
        if "title" in body:
            issue.title = str(body["title"])
        if "body" in body:
            issue.body = body["body"]
        if "state" in body:
            if body["state"] not in ("open", "closed"):
                raise _error(
                    422, "Validation Failed", [{"resource": "Issue", "field": "state", "code": "invalid"}]
                )
            issue.state = body["state"]
            issue.closed_at = _now() if issue.state == "closed" else None
        issue.updated_at = _now()

    def _add_labels(self, repo: FakeRepo, issue: FakeIssue, body: Any) -> tuple[int, Any, dict[str, str]]:
        names: list[str]
        if isinstance(body, list):
            names = [str(n) for n in body]
        elif isinstance(body, dict) and isinstance(body.get("labels"), list):
            names = [str(n) for n in body["labels"]]
        elif isinstance(body, str):
            names = [body]
        else:
            raise _error(422, "Invalid request.\n\nFor 'links/0/schema', nil is not an array.")
        for name in names:
            if len(name) > 50:
                raise _error(
                    422,
                    "Validation Failed",
                    [{"value": name, "resource": "Label", "field": "name", "code": "invalid"}],
                )
            if name.lower() not in repo.labels:
                if not repo.auto_create_labels:
                    raise _error(403, "Must have admin rights to Repository.")
                repo.labels[name.lower()] = {
                    "id": next(self._ids),
                    "name": name,
                    "color": "ededed",
                    "description": None,
                }
            canonical = repo.labels[name.lower()]["name"]
            if canonical.lower() not in (n.lower() for n in issue.labels):
                issue.labels.append(canonical)
        issue.updated_at = _now()
        return 200, [self._label_json(repo, repo.labels[n.lower()]) for n in issue.labels], {}

    def _add_comment(self, repo: FakeRepo, issue: FakeIssue, body: Any) -> tuple[int, Any, dict[str, str]]:
        if not isinstance(body, dict) or not isinstance(body.get("body"), str):
            raise _error(
                422,
                "Validation Failed",
                [{"resource": "IssueComment", "field": "body", "code": "missing_field"}],
            )
        if len(body["body"]) > MAX_BODY:
            raise _error(
                422,
                "Validation Failed",
                [
                    {
                        "resource": "IssueComment",
                        "code": "unprocessable",
                        "field": "data",
                        "message": "Body is too long (maximum is 65536 characters)",
                    }
                ],
            )
        comment_id = next(self._ids)
        comment = {
            "id": comment_id,
            "node_id": f"IC_{comment_id}",
            "url": self._url(f"/repos/{repo.full_name}/issues/comments/{comment_id}"),
            "html_url": self._html(f"/{repo.full_name}/pull/{issue.number}#issuecomment-{comment_id}"),
            "issue_url": self._url(f"/repos/{repo.full_name}/issues/{issue.number}"),
            "body": body["body"],
            "user": self._user(repo.owner),
            "created_at": _now(),
            "updated_at": _now(),
        }
        issue.comments.append(comment)
        issue.updated_at = _now()
        return 201, comment, {"Location": comment["url"]}

    def _create_label(self, repo: FakeRepo, body: Any) -> tuple[int, Any, dict[str, str]]:
        if not isinstance(body, dict) or not body.get("name"):
            raise _error(
                422, "Validation Failed", [{"resource": "Label", "field": "name", "code": "missing_field"}]
            )
        name = str(body["name"])
        if len(name) > 50:
            raise _error(
                422,
                "Validation Failed",
                [
                    {
                        "resource": "Label",
                        "code": "custom",
                        "field": "name",
                        "message": "name is too long (maximum is 50 characters)",
                    }
                ],
            )
        color = str(body.get("color") or "ededed")
        if not re.fullmatch(r"[0-9A-Fa-f]{6}", color):
            raise _error(
                422, "Validation Failed", [{"resource": "Label", "field": "color", "code": "invalid"}]
            )
        description = body.get("description")
        if isinstance(description, str) and len(description) > 100:
            raise _error(
                422, "Validation Failed", [{"resource": "Label", "field": "description", "code": "invalid"}]
            )
        if name.lower() in repo.labels:
            raise _error(
                422, "Validation Failed", [{"resource": "Label", "code": "already_exists", "field": "name"}]
            )
        label = {"id": next(self._ids), "name": name, "color": color.lower(), "description": description}
        repo.labels[name.lower()] = label
        return 201, self._label_json(repo, label), {}

    def _rate_headers(self) -> list[tuple[str, str]]:
        used = len(self._log) + 1
        reset = int((datetime.now(UTC) + timedelta(hours=1)).timestamp())
        return [
            ("X-RateLimit-Limit", str(self.rate_limit)),
            ("X-RateLimit-Remaining", str(max(0, self.rate_limit - used))),
            ("X-RateLimit-Reset", str(reset)),
            ("X-RateLimit-Used", str(used)),
            ("X-RateLimit-Resource", "core"),
        ]
