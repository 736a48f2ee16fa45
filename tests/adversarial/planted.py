"""Planted values: one unique secret or personal value per kind and placement.

Each :class:`Plant` has the ``text`` written into a source field (the value in its usual
surroundings: ``DB_PASSWORD=…``, ``Cookie: lang=en; session=…``) and the ``needle`` that must
never appear in anything selfheal publishes. Values are generated, never copied: a seeded
random source makes every placement's value distinct, so a leak names its field.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass

__all__ = ["KIND_MAKERS", "Plant", "Planter"]

_ALNUM = string.ascii_letters + string.digits


@dataclass(frozen=True, slots=True)
class Plant:
    kind: str
    text: str
    needle: str


def _luhn_complete(prefix: str) -> str:
    digits = [int(d) for d in prefix]
    for check in range(10):
        total = 0
        for index, digit in enumerate(reversed([*digits, check])):
            doubled = digit * 2 if index % 2 == 1 else digit
            total += doubled - 9 if doubled > 9 else doubled
        if total % 10 == 0:
            return prefix + str(check)
    raise AssertionError("unreachable")


Maker = Callable[[random.Random], tuple[str, str]]


def _r(rng: random.Random, n: int, alphabet: str = _ALNUM) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _card(rng: random.Random) -> tuple[str, str]:
    number = _luhn_complete("4" + _r(rng, 14, string.digits))
    spaced = " ".join(number[i : i + 4] for i in range(0, 16, 4))
    return f"card {spaced} declined", spaced


def _jwt(rng: random.Random) -> tuple[str, str]:
    token = f"eyJhbGciOiJIUzI1NiJ9.eyJ{_r(rng, 30)}.{_r(rng, 43)}"
    return f"jwt {token} expired", token


def _pem(rng: random.Random) -> tuple[str, str]:
    body = _r(rng, 64, string.ascii_letters + string.digits + "+/")
    key = f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----"
    return key, body


def _ipv4(rng: random.Random) -> tuple[str, str]:
    ip = f"203.0.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    return f"client {ip} refused", ip


def _mapped(rng: random.Random) -> tuple[str, str]:
    ip = f"198.51.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    return f"from ::ffff:{ip} port 443", ip


def _email(rng: random.Random) -> tuple[str, str]:
    address = f"{_r(rng, 8, string.ascii_lowercase)}@example.com"
    return f"user {address} not found", address


def _email_encoded(rng: random.Random) -> tuple[str, str]:
    local = _r(rng, 8, string.ascii_lowercase)
    return f"GET /users?email={local}%40example.org", f"{local}%40example.org"


def _phone(rng: random.Random) -> tuple[str, str]:
    number = f"+1 415 555 {rng.randint(1000, 9999)}"
    return f"call {number} now", number


def _secret_in(template: str, length: int = 24, alphabet: str = _ALNUM) -> Maker:
    def make(rng: random.Random) -> tuple[str, str]:
        value = _r(rng, length, alphabet)
        return template.format(value), value

    return make


#: kind -> maker of (text planted, needle that must not leak)
KIND_MAKERS: dict[str, Maker] = {
    "github-token": lambda rng: ((t := "ghp_" + _r(rng, 36)), t),
    "github-token-mangled": lambda rng: ((t := "ghp-" + _r(rng, 36)), t),
    "github-pat": lambda rng: ((t := "github_pat_11" + _r(rng, 20) + "_" + _r(rng, 59)), t),
    "gitlab-token": lambda rng: ((t := "glpat-" + _r(rng, 20)), t),
    "aws-access-key": lambda rng: ((t := "AKIA" + _r(rng, 16, string.ascii_uppercase + string.digits)), t),
    "aws-secret-key": _secret_in("aws_secret_access_key={}", 40),
    "slack-token": lambda rng: ((t := f"xoxb-{_r(rng, 12, string.digits)}-{_r(rng, 24)}"), t),
    "slack-webhook": lambda rng: (
        (t := f"https://hooks.slack.com/services/T{_r(rng, 8)}/B{_r(rng, 8)}/{_r(rng, 24)}"),
        t,
    ),
    "discord-webhook": lambda rng: (
        (t := f"https://discord.com/api/webhooks/{_r(rng, 18, string.digits)}/{_r(rng, 60)}"),
        t,
    ),
    "stripe-key": lambda rng: ((t := "sk_live_" + _r(rng, 24)), t),
    "stripe-restricted": lambda rng: ((t := "rk_live_" + _r(rng, 24)), t),
    "openai-key": lambda rng: ((t := "sk-proj-" + _r(rng, 48)), t),
    "openai-legacy": lambda rng: ((t := "sk-" + _r(rng, 48)), t),
    "anthropic-key": lambda rng: ((t := "sk-ant-api03-" + _r(rng, 80)), t),
    "google-api-key": lambda rng: ((t := "AIza" + _r(rng, 35)), t),
    "npm-token": lambda rng: ((t := "npm_" + _r(rng, 36)), t),
    "sentry-token": lambda rng: ((t := "sntrys_" + _r(rng, 60)), t),
    "jwt": _jwt,
    "private-key": _pem,
    "url-credentials": _secret_in("postgres://svc:{}@db.internal:5432/app", 16),
    "env-password": _secret_in("DB_PASSWORD={}"),
    "env-api-key": _secret_in("OPENAI_API_KEY={}"),
    "env-stripe": _secret_in("STRIPE_SECRET_KEY={}"),
    "json-password": _secret_in('{{"password": "{}"}}'),
    "repr-password": _secret_in("{{'password': '{}'}}"),
    "yaml-token": _secret_in("token: {}"),
    "ini-secret": _secret_in("client_secret = {}"),
    "punctuation-password": lambda rng: ((t := "#!" + _r(rng, 20)), f"password={t}")[::-1],
    "cookie": _secret_in("Cookie: lang=en; session={}"),
    "bearer": _secret_in("Authorization: Bearer {}", 32),
    "basic-auth": lambda rng: (
        (b := __import__("base64").b64encode(f"admin:{_r(rng, 16)}".encode()).decode()),
        f"Authorization: Basic {b}",
    )[::-1],
    "sentry-key-param": _secret_in(
        "GET /api/1/store/?sentry_key={}&sentry_version=7", 32, string.hexdigits.lower()[:16]
    ),
    "private-token-param": _secret_in("GET /api/v4/projects?private_token={}"),
    "email": _email,
    "email-encoded": _email_encoded,
    "ipv4": _ipv4,
    "ipv4-mapped": _mapped,
    "card-number": _card,
    "phone-number": _phone,
}


class Planter:
    """Hands out a fresh plant per call, cycling through every kind."""

    def __init__(self, seed: int = 16) -> None:
        self._rng = random.Random(seed)  # noqa: S311 - reproducible test data, not cryptography
        self._kinds = list(KIND_MAKERS)
        self._next = 0
        self.plants: list[Plant] = []

    def __call__(self) -> Plant:
        kind = self._rng.choice(self._kinds) if self._next >= len(self._kinds) else self._kinds[self._next]
        self._next += 1
        text, needle = KIND_MAKERS[kind](self._rng)
        plant = Plant(kind, text, needle)
        self.plants.append(plant)
        return plant

    def every_kind(self) -> Iterator[Plant]:
        for _ in self._kinds:
            yield self()
