"""The fake GitHub itself: GitHub's shapes and errors, as the real PyGithub sees them."""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Iterator

import github
import pytest
from github import Auth, Github, GithubException

from selfheal.testing.fake_github import FakeGitHub

github.set_log_level(logging.WARNING)


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        fake.add_repo("acme", "shop", default_branch="trunk")
        yield fake


def client(gh: FakeGitHub, token: str = "t") -> Github:  # noqa: S107 - the fake accepts any token
    return Github(
        base_url=gh.base_url,
        auth=Auth.Token(token),
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=None,
        per_page=100,
    )


def branch_with_commit(gh: FakeGitHub, name: str = "selfheal/abc") -> None:
    repo = client(gh).get_repo("acme/shop")
    sha = repo.get_git_ref("heads/trunk").object.sha
    repo.create_git_ref(ref=f"refs/heads/{name}", sha=sha)
    repo.create_file(".selfheal/tasks/abc.md", "add task", "hello", branch=name)


def test_the_whole_flow_works_with_pygithub_and_is_logged(gh: FakeGitHub) -> None:
    g = client(gh)
    repo = g.get_repo("acme/shop")
    assert repo.default_branch == "trunk"
    sha = repo.get_git_ref("heads/trunk").object.sha
    repo.create_git_ref(ref="refs/heads/selfheal/abc", sha=sha)
    result = repo.create_file(".selfheal/tasks/abc.md", "add task", "hello", branch="selfheal/abc")
    assert result["commit"].sha
    pr = repo.create_pull(base="trunk", head="selfheal/abc", title="t", body="b", draft=True)
    assert pr.url.startswith(gh.base_url)  # every url is built from the fake's own base URL
    assert pr.issue_url.startswith(gh.base_url)
    repo.create_label("selfheal", "5319e7", description="d")
    pr.add_to_labels("selfheal", "Severity:High")
    pr.edit(body="new body")
    pr.create_issue_comment("hello")
    (listed,) = list(repo.get_pulls(state="open", head="acme:selfheal/abc"))
    assert (listed.number, listed.draft, listed.body) == (1, True, "new body")
    assert [label.name for label in listed.labels] == ["selfheal", "Severity:High"]
    assert gh.repo().labels["severity:high"]["color"] == "ededed"  # auto-created, as on GitHub
    assert [(r.method, r.path.removeprefix("/api/v3/repos/acme/shop"), r.status) for r in gh.requests] == [
        ("GET", "", 200),
        ("GET", "/git/ref/heads/trunk", 200),
        ("POST", "/git/refs", 201),
        ("PUT", "/contents/.selfheal/tasks/abc.md", 201),
        ("POST", "/pulls", 201),
        ("POST", "/labels", 201),
        ("POST", "/issues/1/labels", 200),
        ("PATCH", "/pulls/1", 200),
        ("POST", "/issues/1/comments", 201),
        ("GET", "/pulls", 200),
    ]
    assert gh.requests[6].body == ["selfheal", "Severity:High"]
    assert gh.requests[9].query == {"state": ("open",), "head": ("acme:selfheal/abc",), "per_page": ("100",)}
    assert gh.repo().files("selfheal/abc")[".selfheal/tasks/abc.md"] == "hello"


@pytest.mark.parametrize(
    ("setup", "call", "status", "message"),
    [
        ("pr", "pull", 422, "A pull request already exists for acme:selfheal/abc."),
        ("branch", "pull_no_commit", 422, "No commits between trunk and selfheal/empty"),
        ("branch", "ref", 422, "Reference already exists"),
        ("branch", "long_body", 422, "body is too long (maximum is 65536 characters)"),
        ("none", "long_label", 422, "name is too long (maximum is 50 characters)"),
        ("branch", "file_again", 422, '"sha" wasn\'t supplied'),
        ("none", "missing_repo", 404, "Not Found"),
    ],
)
def test_github_error_bodies(gh: FakeGitHub, setup: str, call: str, status: int, message: str) -> None:
    repo = client(gh).get_repo("acme/shop")
    if setup in ("branch", "pr"):
        branch_with_commit(gh)
    if setup == "pr":
        repo.create_pull(base="trunk", head="selfheal/abc", title="t", body="b")
    sha = repo.get_git_ref("heads/trunk").object.sha
    calls = {
        "pull": lambda: repo.create_pull(base="trunk", head="selfheal/abc", title="t", body="b"),
        "pull_no_commit": lambda: (
            repo.create_git_ref(ref="refs/heads/selfheal/empty", sha=sha),
            repo.create_pull(base="trunk", head="selfheal/empty", title="t", body="b"),
        ),
        "ref": lambda: repo.create_git_ref(ref="refs/heads/selfheal/abc", sha=sha),
        "long_body": lambda: repo.create_pull(
            base="trunk", head="selfheal/abc", title="t", body="x" * 65_537
        ),
        "long_label": lambda: repo.create_label("x" * 51, "ededed"),
        "file_again": lambda: repo.create_file(".selfheal/tasks/abc.md", "m", "again", branch="selfheal/abc"),
        "missing_repo": lambda: client(gh).get_repo("acme/nope").default_branch,
    }
    with pytest.raises(GithubException) as failure:
        calls[call]()
    assert failure.value.status == status
    assert message in json.dumps(failure.value.data).replace('\\"', '"')


def test_drafts_can_be_refused_like_a_private_free_plan_repository(gh: FakeGitHub) -> None:
    gh.add_repo("acme", "private", private=True, allow_drafts=False)
    repo = client(gh).get_repo("acme/private")
    sha = repo.get_git_ref("heads/main").object.sha
    repo.create_git_ref(ref="refs/heads/x", sha=sha)
    repo.create_file("f.md", "m", "x", branch="x")
    with pytest.raises(GithubException, match="Draft pull requests are not supported"):
        repo.create_pull(base="main", head="x", title="t", body="b", draft=True)
    assert repo.create_pull(base="main", head="x", title="t", body="b", draft=False).number == 1


def test_labels_are_case_insensitive(gh: FakeGitHub) -> None:
    repo = client(gh).get_repo("acme/shop")
    repo.create_label("Bug", "ff0000")
    with pytest.raises(GithubException) as failure:
        repo.create_label("bug", "00ff00")
    assert failure.value.data["errors"][0]["code"] == "already_exists"
    assert repo.get_label("BUG").name == "Bug"


def test_pagination_uses_link_headers_on_the_fakes_base_url(gh: FakeGitHub) -> None:
    for n in range(250):
        gh.seed_pull(f"feature/{n}")
    pulls = client(gh).get_repo("acme/shop").get_pulls(state="all")
    assert len(list(pulls)) == 250
    assert pulls.totalCount == 250
    with urllib.request.urlopen(f"{gh.base_url}/repos/acme/shop/pulls?per_page=100") as response:
        link = response.headers["Link"]
        assert response.headers["X-RateLimit-Limit"] == "5000"
    assert link.startswith(f"<{gh.base_url}/repos/acme/shop/pulls?")
    assert 'rel="next"' in link
    assert 'rel="last"' in link


def test_injected_faults_replace_answers_and_passthrough_still_writes(gh: FakeGitHub) -> None:
    branch_with_commit(gh)
    repo = client(gh).get_repo("acme/shop")
    gh.inject(method="POST", path=r"/pulls$", status=502, passthrough=True)
    with pytest.raises(GithubException) as failure:
        repo.create_pull(base="trunk", head="selfheal/abc", title="t", body="b")
    assert failure.value.status == 502
    assert len(gh.repo().pulls()) == 1  # the write happened before the error
    gh.inject(
        method="GET",
        path=r"/pulls$",
        status=429,
        body={"message": "slow down"},
        headers={"Retry-After": "1", "X-RateLimit-Remaining": "0"},
    )
    with pytest.raises(GithubException) as limited:
        list(repo.get_pulls())
    assert limited.value.status == 429
    assert limited.value.headers["retry-after"] == "1"
    assert limited.value.headers["x-ratelimit-remaining"] == "0"  # replaced, not duplicated
    assert len(list(repo.get_pulls())) == 1  # used up: back to normal


def test_a_token_can_be_required(gh: FakeGitHub) -> None:
    gh.token = "right"
    with pytest.raises(GithubException) as failure:
        client(gh, "wrong").get_repo("acme/shop").default_branch  # noqa: B018 - the property makes the request
    assert failure.value.status == 401
    assert client(gh, "right").get_repo("acme/shop").default_branch == "trunk"


def test_a_bug_in_the_fake_answers_418_and_is_recorded(gh: FakeGitHub) -> None:
    gh.repo().labels["broken"] = {"name": "broken"}  # missing keys: the fake fails while serializing
    with pytest.raises(GithubException) as failure:
        list(client(gh).get_repo("acme/shop").get_labels())
    assert failure.value.status == 418
    assert gh.errors
    gh.errors.clear()
