"""The shared async HTTP layer for the error-tracker APIs (Sentry, Bugsink).

One :class:`ApiClient` per pull. It owns everything that makes a client polite and robust,
so the source modules only say *what* to fetch:

- retries with jittered exponential backoff (stamina) on transport errors, timeouts,
  HTTP 429 and 5xx, never on other 4xx;
- rate limits: ``X-Sentry-Rate-Limit-Remaining``/``-Reset`` pause every request until the
  window resets, a 429 waits for ``Retry-After`` (when present) or ``-Reset``; both waits are
  capped by :attr:`RetryPolicy.max_rate_limit_wait`; absent headers (self-hosted) are fine;
- a concurrency bound (default 8) that is lowered to the server's advertised
  ``X-Sentry-Rate-Limit-ConcurrentLimit`` and never exceeds it;
- a body that is not valid JSON is retried once, then reported clearly;
- every failure is one :class:`~selfheal.errors.RemoteError` line named after the service
  (``Bugsink HTTP 401 …``); 401/403 name the scope the token lacks; the token itself never
  appears in any message, nor does ``user:password@`` of a configured URL;
- one deadline per request covers connecting, waiting and reading the whole body, and the
  body is capped (:attr:`RetryPolicy.max_body_bytes`); an HTML page where JSON was expected
  (a proxy or captive portal) is one clear error; a redirect to another origin is refused,
  so the token and the answers stay on the configured host.

Tests swap the wire through ``transport=`` (an :class:`httpx.AsyncBaseTransport`) or, more
often, point ``base_url`` at a fake server on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import httpx
import stamina

from selfheal.errors import RemoteError
from selfheal.scrub import strip_url_userinfo

__all__ = [
    "DEFAULT_CONCURRENCY",
    "ApiClient",
    "ConcurrencyLimit",
    "JsonResponse",
    "RetryPolicy",
    "describe_retry",
    "looks_like_html",
]

#: Requests in flight at once unless the caller or the server says fewer.
DEFAULT_CONCURRENCY = 8

_RATE_LIMIT_REMAINING = "X-Sentry-Rate-Limit-Remaining"
_RATE_LIMIT_RESET = "X-Sentry-Rate-Limit-Reset"
_RATE_LIMIT_CONCURRENT = "X-Sentry-Rate-Limit-ConcurrentLimit"
_MAX_DETAIL_CHARS = 200


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try. Waits are in seconds; tests shrink them."""

    attempts: int = 6
    total_timeout: float = 300.0
    wait_initial: float = 0.2
    wait_max: float = 10.0
    wait_jitter: float = 0.5
    #: Upper bound for a wait dictated by the server (429 Retry-After / rate-limit Reset).
    max_rate_limit_wait: float = 60.0
    #: Timeout of each network operation (connect, one read, one write, a pool slot).
    request_timeout: float = 30.0
    #: Deadline for one whole request, from sending it to the last byte of the body (not
    #: only per read: a server that drips one byte every few seconds is cut off here).
    request_deadline: float = 30.0
    #: Largest body accepted; an endless or runaway answer is cut off here.
    max_body_bytes: int = 64 * 1024 * 1024
    #: Same-origin redirects followed per request; a redirect to another origin is refused.
    max_redirects: int = 5


@dataclass(frozen=True, slots=True)
class JsonResponse:
    """A successful (2xx) response whose body parsed as JSON."""

    url: str
    status: int
    data: Any
    headers: httpx.Headers
    #: ``Link`` header entries keyed by ``rel`` (each with ``url`` and any other parameters).
    links: Mapping[str, Mapping[str, str]]


class ConcurrencyLimit:
    """An asyncio semaphore whose size can shrink or grow (up to ``ceiling``) while in use.

    Urgent waiters (page fetches) jump the queue so event fetches never starve the
    pagination. Records the highest number of holders seen at once.
    """

    def __init__(self, ceiling: int) -> None:
        if ceiling < 1:
            raise ValueError("concurrency must be at least 1")
        self.ceiling = ceiling
        self.limit = ceiling
        self.in_flight = 0
        self.max_in_flight = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    def adjust(self, advertised: int) -> None:
        """Follow the server's advertised limit, never above our own ceiling."""
        self.limit = max(1, min(self.ceiling, advertised))
        self._wake()

    async def acquire(self, *, urgent: bool = False) -> None:
        if self.in_flight < self.limit and not self._waiters:
            self._take()
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if urgent:
            self._waiters.appendleft(future)
        else:
            self._waiters.append(future)
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # a slot was handed to us just as we were cancelled
            elif future in self._waiters:
                self._waiters.remove(future)
            raise

    def release(self) -> None:
        self.in_flight -= 1
        self._wake()

    def _take(self) -> None:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _wake(self) -> None:
        while self._waiters and self.in_flight < self.limit:
            future = self._waiters.popleft()
            if not future.done():
                self._take()
                future.set_result(None)


class _RetryableStatusError(Exception):
    """A 429 or 5xx answer; ``wait`` is the server-dictated backoff, if any."""

    def __init__(self, status: int, url: str, detail: str, wait: float | None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.url = url
        self.detail = detail
        self.wait = wait


class _DeadlineError(httpx.ReadTimeout):
    """The whole request took longer than :attr:`RetryPolicy.request_deadline`."""


class _BrokenBodyError(Exception):
    """A 2xx answer whose body is not valid JSON (truncated, or not JSON at all)."""

    def __init__(self, url: str, problem: str) -> None:
        super().__init__(problem)
        self.url = url
        self.problem = problem


def describe_retry(retry_num: int, wait_for: float, cause: Exception) -> str:
    """One line for people about a scheduled retry (for a stamina on-retry hook); no secrets."""
    if isinstance(cause, _RetryableStatusError):
        reason = f"HTTP {cause.status} from {cause.url}"
    elif isinstance(cause, _BrokenBodyError):
        reason = f"broken JSON body from {cause.url}"
    elif isinstance(cause, httpx.TransportError):
        reason = f"{type(cause).__name__} for {_request_url(cause, '?')}"
    else:
        reason = type(cause).__name__
    return strip_url_userinfo(f"retry {retry_num} in {wait_for:.1f} s after {reason}")


def _retry_decision(exc: Exception) -> bool | float:
    """stamina backoff hook: retry what may succeed later; honour server-dictated waits."""
    if isinstance(exc, _RetryableStatusError):
        return exc.wait if exc.wait is not None else True
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.LocalProtocolError):
        return False  # our request is wrong (bad URL scheme, bad header): trying again cannot help
    return isinstance(exc, _BrokenBodyError | httpx.TransportError)


class ApiClient:
    """Async JSON GETs against one API with retries, rate limits and a concurrency bound.

    ``service`` names the API in messages (``"Sentry"``, ``"Bugsink"``); ``credentials_hint``
    tells people what token to provide (for example which environment variable and scopes).
    Use as ``async with ApiClient(...) as client``.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        service: str,
        credentials_hint: str = "",
        concurrency: int = DEFAULT_CONCURRENCY,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        user_agent: str = "selfheal",
    ) -> None:
        self.service = service
        self.credentials_hint = credentials_hint
        self.retry = retry or RetryPolicy()
        self.limit = ConcurrencyLimit(concurrency)
        self.requests = 0
        self.retries = 0
        self._token = token
        self._paused_until = 0.0
        headers = {"Accept": "application/json", "User-Agent": user_agent}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/",
            headers=headers,
            timeout=httpx.Timeout(self.retry.request_timeout),
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
            transport=transport,
            follow_redirects=False,  # followed by hand, same origin only (_send)
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    @property
    def max_in_flight(self) -> int:
        return self.limit.max_in_flight

    async def get_json(
        self,
        url: str,
        params: Mapping[str, str | Sequence[str]] | None = None,
        *,
        scope: str | None = None,
        urgent: bool = False,
    ) -> JsonResponse:
        """GET ``url`` (relative to the base URL, or absolute) and parse its JSON body.

        ``scope`` names the token scope the endpoint needs, for the 403 message.
        ``urgent`` requests (pagination) go ahead of queued ones.
        Raises :class:`~selfheal.errors.RemoteError` (``service`` = :attr:`service`) when
        retries are exhausted or the answer is a non-retryable error.
        """
        broken_bodies = 0
        tries = 0
        shown_url = url
        try:
            async for attempt in stamina.retry_context(
                on=_retry_decision,
                attempts=self.retry.attempts,
                timeout=self.retry.total_timeout,
                wait_initial=self.retry.wait_initial,
                wait_max=self.retry.wait_max,
                wait_jitter=self.retry.wait_jitter,
            ):
                tries = attempt.num
                if tries > 1:
                    self.retries += 1
                with attempt:
                    try:
                        return await self._attempt(url, params, scope=scope, urgent=urgent)
                    except _BrokenBodyError as exc:
                        shown_url = exc.url
                        broken_bodies += 1
                        if broken_bodies > 1:
                            raise RemoteError(
                                self.service,
                                f"{self.service} sent a body that is not valid JSON twice ({exc.problem})",
                                url=exc.url,
                            ) from exc
                        raise
        except _RetryableStatusError as exc:
            raise RemoteError(
                self.service,
                f"{self.service} still failing after {tries} attempts: {exc.detail}",
                status=exc.status,
                url=exc.url,
            ) from exc
        except _BrokenBodyError as exc:  # only when attempts are exhausted on the first broken body
            raise RemoteError(
                self.service,
                f"{self.service} sent a body that is not valid JSON ({exc.problem})",
                url=exc.url,
            ) from exc
        except httpx.TimeoutException as exc:
            limit = (
                self.retry.request_deadline if isinstance(exc, _DeadlineError) else self.retry.request_timeout
            )
            raise RemoteError(
                self.service,
                f"{self.service} did not answer within {limit:g} s ({tries} attempts)",
                url=_request_url(exc, shown_url),
            ) from exc
        except httpx.TransportError as exc:
            raise RemoteError(
                self.service,
                f"cannot reach {self.service} ({type(exc).__name__}: {self._scrub(str(exc))})",
                url=_request_url(exc, shown_url),
            ) from exc
        raise AssertionError("unreachable: stamina either returns or raises")  # pragma: no cover

    async def _attempt(
        self,
        url: str,
        params: Mapping[str, str | Sequence[str]] | None,
        *,
        scope: str | None,
        urgent: bool,
    ) -> JsonResponse:
        await self.limit.acquire(urgent=urgent)
        try:
            # After taking a slot: a pause may have begun while we queued for it.
            await self._wait_for_rate_limit_window()
            self.requests += 1
            response, body = await self._send(url, params)
        finally:
            self.limit.release()
        full_url = str(response.request.url)
        status = response.status_code
        self._follow_rate_limit_headers(response.headers, refused=status == 429)
        if status == 429 or status >= 500:
            raise _RetryableStatusError(
                status,
                full_url,
                self._detail(response, body),
                self._server_wait(response.headers, rate_limited=status == 429),
            )
        if status in (401, 403):
            raise RemoteError(self.service, self._auth_message(status, scope), status=status, url=full_url)
        if status >= 400:
            raise RemoteError(self.service, self._detail(response, body), status=status, url=full_url)
        if _looks_like_html(response.headers, body):
            raise RemoteError(
                self.service,
                f"{self.service} answered with an HTML page where JSON was expected: "
                "a proxy or captive portal?",
                status=status,
                url=full_url,
            )
        try:
            data = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
            raise _BrokenBodyError(full_url, f"{len(body)} bytes: {exc}") from exc
        links = {
            link.get("rel", link.get("url", "")): {k: v for k, v in link.items() if isinstance(v, str)}
            for link in _parse_links(response)
        }
        return JsonResponse(url=full_url, status=status, data=data, headers=response.headers, links=links)

    async def _send(
        self, url: str, params: Mapping[str, str | Sequence[str]] | None
    ) -> tuple[httpx.Response, bytes]:
        """GET with one deadline for the whole exchange, a capped body and same-origin redirects."""
        request = self._client.build_request("GET", url, params=_query(params))
        origin = _origin(request.url)
        try:
            async with asyncio.timeout(self.retry.request_deadline):
                for _ in range(self.retry.max_redirects + 1):
                    response = await self._client.send(request, stream=True)
                    try:
                        location = response.headers.get("Location")
                        if response.is_redirect and location:
                            target = request.url.join(location)
                            if _origin(target) != origin:
                                raise RemoteError(
                                    self.service,
                                    f"{self.service} redirected to another origin "
                                    f"({_origin_text(target)}); refusing to follow it with the token",
                                    status=response.status_code,
                                    url=str(request.url),
                                )
                            request = self._client.build_request("GET", target)
                            continue
                        body = await self._read_capped(response)
                    finally:
                        await response.aclose()
                    return response, body
        except TimeoutError as exc:
            raise _DeadlineError(
                f"no complete answer within {self.retry.request_deadline:g} s", request=request
            ) from exc
        raise RemoteError(
            self.service,
            f"{self.service} redirected more than {self.retry.max_redirects} times",
            url=str(request.url),
        )

    async def _read_capped(self, response: httpx.Response) -> bytes:
        limit = self.retry.max_body_bytes
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise RemoteError(
                    self.service,
                    f"{self.service} sent a body larger than the limit of {limit:,} bytes",
                    status=response.status_code,
                    url=str(response.request.url),
                )
            chunks.append(chunk)
        return b"".join(chunks)

    async def _wait_for_rate_limit_window(self) -> None:
        while (delay := self._paused_until - time.monotonic()) > 0:
            await asyncio.sleep(delay)

    def _follow_rate_limit_headers(self, headers: httpx.Headers, *, refused: bool) -> None:
        concurrent = _int_header(headers, _RATE_LIMIT_CONCURRENT)
        if concurrent is not None and concurrent > 0:
            self.limit.adjust(concurrent)
        if refused:  # a 429's wait is decided by _server_wait (Retry-After first)
            return
        remaining = _int_header(headers, _RATE_LIMIT_REMAINING)
        if remaining is not None and remaining <= 0:
            wait = self._reset_wait(headers)
            if wait:
                self._pause(wait)

    def _server_wait(self, headers: httpx.Headers, *, rate_limited: bool) -> float | None:
        """Seconds the server asks us to wait, capped; None if unsaid (plain backoff then).

        ``Retry-After`` when present; for a 429 otherwise the rate-limit window's ``Reset``.
        """
        wait = _retry_after(headers.get("Retry-After"))
        if wait is None and rate_limited:
            wait = self._reset_wait(headers)
        if wait is None:
            return None
        wait = min(max(wait, 0.0), self.retry.max_rate_limit_wait)
        self._pause(wait)
        return wait

    def _reset_wait(self, headers: httpx.Headers) -> float | None:
        raw = headers.get(_RATE_LIMIT_RESET)
        if raw is None:
            return None
        try:
            reset_at = float(raw)
        except ValueError:
            return None
        return min(max(reset_at - time.time(), 0.0), self.retry.max_rate_limit_wait)

    def _pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    def _auth_message(self, status: int, scope: str | None) -> str:
        hint = f"; {self.credentials_hint}" if self.credentials_hint else ""
        if status == 401:
            return f"{self.service} rejected the token (missing, invalid, expired or revoked){hint}"
        needs = (
            f"the token lacks the {scope} scope this endpoint needs"
            if scope
            else "the token is not allowed here"
        )
        return f"{self.service} refused access: {needs}{hint}"

    def _detail(self, response: httpx.Response, body: bytes = b"") -> str:
        if _looks_like_html(response.headers, body):
            return f"an HTML page (HTTP {response.status_code}): a proxy or captive portal?"
        text = body.decode("utf-8", errors="replace").strip()
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = text
        if isinstance(parsed, dict) and isinstance(parsed.get("detail"), str):
            parsed = parsed["detail"]
        detail = parsed if isinstance(parsed, str) else text
        detail = " ".join(detail.split())[:_MAX_DETAIL_CHARS] or response.reason_phrase
        return self._scrub(detail)

    def _scrub(self, text: str) -> str:
        text = strip_url_userinfo(text)
        return text.replace(self._token, "***") if self._token else text


def _query(params: Mapping[str, str | Sequence[str]] | None) -> httpx.QueryParams | None:
    if params is None:
        return None
    pairs: list[tuple[str, str | int | float | bool | None]] = []
    for key, value in params.items():
        if isinstance(value, str):
            pairs.append((key, value))
        else:
            pairs.extend((key, item) for item in value)
    return httpx.QueryParams(pairs)


def _parse_links(response: httpx.Response) -> list[dict[str, str]]:
    if "Link" not in response.headers:
        return []
    return [dict(link) for link in response.links.values()]


def _int_header(headers: httpx.Headers, name: str) -> int | None:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        return int(float(raw))
    except ValueError:
        return None


def _retry_after(raw: str | None) -> float | None:
    """``Retry-After`` as seconds: either delta-seconds or an HTTP date."""
    if raw is None:
        return None
    raw = raw.strip()
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return when.timestamp() - time.time()


def _request_url(exc: httpx.TransportError, fallback: str) -> str:
    try:
        return strip_url_userinfo(str(exc.request.url))
    except RuntimeError:  # the error was raised before a request existed
        return strip_url_userinfo(fallback)


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default = {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host, url.port or default


def _origin_text(url: httpx.URL) -> str:
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{url.host}{port}"


def looks_like_html(content_type: str, body: bytes) -> bool:
    """True when an answer that should be JSON is an HTML page (a proxy, a login or captive
    portal, an error page of a load balancer)."""
    if "html" in content_type.lower():
        return True
    head = body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body"))


def _looks_like_html(headers: httpx.Headers, body: bytes) -> bool:
    return looks_like_html(headers.get("Content-Type", ""), body)
