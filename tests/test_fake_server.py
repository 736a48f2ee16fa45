"""The loopback server every fake is built on: lifecycle, request log, faults, 418 on a bug."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from selfheal.testing._server import PROXY_PAGE, IncomingRequest, LoopbackFake, Reply


class EchoFake(LoopbackFake):
    """Answers every request with what it received; ``/boom`` is a bug in the fake."""

    def __init__(self) -> None:
        super().__init__(token=None, path_prefix="/api/")
        self.routed: list[str] = []

    def _reply(self, request: IncomingRequest, in_flight: int) -> Reply:
        path = self._route_target(request)
        if path is None:
            return self._json(404, {"detail": "outside the API"})
        headers = [("X-Api", "echo")]
        faulted = self._faulted(request, headers, lambda: self._echo(request, path, headers))
        return faulted if faulted is not None else self._echo(request, path, headers)

    def _echo(self, request: IncomingRequest, path: str, headers: list[tuple[str, str]]) -> Reply:
        if path == "/boom":
            raise KeyError("missing")
        self.routed.append(f"{request.method} {path}")
        return self._json(200, {"method": request.method, "path": path, "body": request.body}, headers)


def test_lifecycle_base_url_and_the_path_prefix() -> None:
    fake = EchoFake()
    with pytest.raises(RuntimeError, match="EchoFake is not running"):
        fake.base_url  # noqa: B018 - the property raises
    with fake:
        assert fake.base_url == f"http://127.0.0.1:{fake.port}/api"
        assert httpx.get(f"{fake.base_url}/x").json()["path"] == "/x"
        assert httpx.get(f"http://127.0.0.1:{fake.port}/x").status_code == 404
    fake.stop()  # stopping twice is harmless


def test_the_request_log_records_what_was_asked_and_answered() -> None:
    with EchoFake() as fake:
        httpx.get(f"{fake.base_url}/a%20b/", params=[("q", "1"), ("q", "2")], headers={"X-Trace": "t"})
        httpx.post(f"{fake.base_url}/items", json={"name": "n"})
        get, post = fake.requests
        assert (get.method, get.path, get.query, get.status, get.fault) == (
            "GET",
            "/api/a b/",
            {"q": ("1", "2")},
            200,
            None,
        )
        assert get.headers["x-trace"] == "t"
        assert get.started <= get.finished <= post.started
        assert post.body == {"name": "n"}
        assert fake.writes == [post]
        assert fake.max_in_flight == 1
        fake.clear_requests()
        assert fake.requests == []


def test_scripted_faults_match_method_path_and_count() -> None:
    with EchoFake() as fake, httpx.Client(base_url=fake.base_url) as client:
        fake.inject(method="POST", path=r"/items$", status=502, count=2)
        assert client.get("/items").status_code == 200  # another method: untouched
        assert client.post("/items/1").status_code == 200  # another path: untouched
        assert [client.post("/items").status_code for _ in range(3)] == [502, 502, 200]
        assert client.post("/items").json()["method"] == "POST"
        fake.inject("html", path="/page")
        page = client.get("/page")
        assert (page.status_code, page.content) == (200, PROXY_PAGE)
        assert page.headers["Content-Type"].startswith("text/html")
        fake.inject(status=429, count=5)
        fake.clear_faults()
        assert client.get("/x").status_code == 200
        assert [r.fault for r in fake.requests] == [None, None, "error", "error", None, None, "html", None]


def test_fault_headers_replace_the_apis_and_passthrough_routes_first() -> None:
    with EchoFake() as fake, httpx.Client(base_url=fake.base_url) as client:
        fake.inject(path="/slow", status=503, body={"message": "later"}, headers={"x-api": "gateway"})
        answer = client.get("/slow")
        assert answer.json() == {"message": "later"}
        assert answer.headers.get_list("X-Api") == ["gateway"]  # replaced, not duplicated
        assert fake.routed == []
        fake.inject(method="POST", path="/write", status=504, passthrough=True)
        assert client.post("/write", json=[1]).status_code == 504
        assert fake.routed == ["POST /write"]  # done, then answered with the fault


def test_a_bug_in_a_fake_answers_418_and_is_kept() -> None:
    with EchoFake() as fake:
        answer = httpx.get(f"{fake.base_url}/boom")
        assert answer.status_code == 418
        assert "EchoFake bug: KeyError" in answer.json()["message"]
        assert fake.errors == ["GET /api/boom: KeyError: 'missing'"]


def test_the_in_process_transport_answers_like_the_server() -> None:
    fake = EchoFake()

    async def ask() -> Any:
        async with httpx.AsyncClient(transport=fake.transport(), base_url="http://fake/api") as client:
            return (await client.post("/items", json={"a": 1})).json()

    assert asyncio.run(ask()) == {"method": "POST", "path": "/items", "body": {"a": 1}}
    (entry,) = fake.requests
    assert (entry.path, entry.body, entry.status) == ("/api/items", {"a": 1}, 200)
