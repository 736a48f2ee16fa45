"""Settings that come from the environment: service addresses and secrets.

Secrets are read only here, only from environment variables, and are never part of a
``repr``, a log line, a CLI argument or a notebook parameter. Pure stages never import this
module; the CLI, the runner and the notebooks' calls into the package do.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from selfheal._readers import env_int, env_number, env_text, env_url
from selfheal.errors import ConfigError, MissingEnvError

__all__ = [
    "BUGSINK_STATES",
    "BugsinkSettings",
    "GitHubSettings",
    "SentrySettings",
    "min_frequency_from_env",
    "secret_values",
]

DEFAULT_SENTRY_BASE_URL = "https://sentry.io"
#: The issue states a Bugsink pull can ask for (``selfheal pull bugsink --state``).
BUGSINK_STATES = ("open", "unresolved", "resolved", "muted", "all")
DEFAULT_GITHUB_API_URL = "https://api.github.com"

#: Every environment variable whose value is a secret; reports and logs are checked against these.
SECRET_ENV_VARS = ("SENTRY_AUTH_TOKEN", "GITHUB_TOKEN", "BUGSINK_TOKEN")


def secret_values(environ: Mapping[str, str] | None = None) -> list[str]:
    """The values of the secret environment variables that are set (for scrubbing)."""
    env = os.environ if environ is None else environ
    return [env[name] for name in SECRET_ENV_VARS if env.get(name)]


def min_frequency_from_env(environ: Mapping[str, str] | None = None) -> int | None:
    """``SENTRY_ERROR_MIN_FREQUENCY`` (a whole number >= 0), or ``None`` when unset or empty.

    The one reader of that variable: :func:`selfheal.pipeline.normalize` takes it over the
    configuration's ``min_frequency`` (an explicit value wins over both).
    """
    env = os.environ if environ is None else environ
    if not env_text(env, "SENTRY_ERROR_MIN_FREQUENCY"):
        return None
    return env_int(env, "SENTRY_ERROR_MIN_FREQUENCY", 0)


#: Seconds between two progress lines of a pull when stderr is not a terminal (CI logs).
DEFAULT_PROGRESS_SECONDS = 5.0


def progress_seconds_from_env(environ: Mapping[str, str] | None = None) -> float:
    """``SELFHEAL_PROGRESS_SECONDS``: how often a pull prints a progress line in a log (a
    number > 0; default :data:`DEFAULT_PROGRESS_SECONDS`)."""
    env = os.environ if environ is None else environ
    seconds = env_number(env, "SELFHEAL_PROGRESS_SECONDS", DEFAULT_PROGRESS_SECONDS)
    if seconds <= 0:
        raise ConfigError("SELFHEAL_PROGRESS_SECONDS", f"must be a number > 0, got {seconds:g}")
    return seconds


@dataclass(frozen=True, slots=True)
class SentrySettings:
    """Where and how to pull from Sentry. ``token`` never appears in ``repr``."""

    org: str
    projects: tuple[str, ...] = ()
    environment: str = "production"
    base_url: str = DEFAULT_SENTRY_BASE_URL
    #: Issues a pull wants unless told otherwise; ``None`` = every issue (``SENTRY_ERROR_LIMIT=0``).
    limit: int | None = 10
    token: str = field(default="", repr=False)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, require_token: bool = True
    ) -> SentrySettings:
        env = os.environ if environ is None else environ
        token = env_text(env, "SENTRY_AUTH_TOKEN")
        if require_token and not token:
            raise MissingEnvError(
                "SENTRY_AUTH_TOKEN", "a Sentry auth token with event:read, project:read, org:read"
            )
        org = env_text(env, "SENTRY_ORG")
        if not org:
            raise MissingEnvError("SENTRY_ORG", "the Sentry organization slug")
        projects = tuple(p.strip() for p in env.get("SENTRY_PROJECT", "").split(",") if p.strip())
        return cls(
            org=org,
            projects=projects,
            environment=env_text(env, "SENTRY_ENV") or "production",
            base_url=env_url(env, "SENTRY_BASE_URL", DEFAULT_SENTRY_BASE_URL),
            limit=env_int(env, "SENTRY_ERROR_LIMIT", 10) or None,
            token=token,
        )


@dataclass(frozen=True, slots=True)
class GitHubSettings:
    """Which repository receives draft PRs. ``token`` never appears in ``repr``."""

    owner: str
    repo: str
    api_url: str = DEFAULT_GITHUB_API_URL
    token: str = field(default="", repr=False)
    #: ``SELFHEAL_GITHUB_PACE``: multiplies the spacing GitHub asks for between requests and
    #: writes and every retry wait (1 = GitHub's pace; 0 = none, for a test server or a GitHub
    #: Enterprise Server without secondary rate limits). Waits are reported unscaled.
    pace: float = 1.0

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.repo}"

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, require_token: bool = True
    ) -> GitHubSettings:
        env = os.environ if environ is None else environ
        token = env_text(env, "GITHUB_TOKEN")
        if require_token and not token:
            raise MissingEnvError(
                "GITHUB_TOKEN",
                "a token with contents: write, pull requests: write, issues: write",
            )
        owner = env_text(env, "GITHUB_OWNER")
        repo = env_text(env, "GITHUB_REPO")
        if not owner or not repo:
            # GitHub Actions sets GITHUB_REPOSITORY=owner/name; accept it as a fallback.
            full = env_text(env, "GITHUB_REPOSITORY")
            if "/" in full:
                owner = owner or full.split("/", 1)[0]
                repo = repo or full.split("/", 1)[1]
        if not owner:
            raise MissingEnvError("GITHUB_OWNER", "the owner of the repository that receives PRs")
        if not repo:
            raise MissingEnvError("GITHUB_REPO", "the name of the repository that receives PRs")
        return cls(
            owner=owner,
            repo=repo,
            api_url=env_url(env, "GITHUB_API_URL", DEFAULT_GITHUB_API_URL),
            token=token,
            pace=env_number(env, "SELFHEAL_GITHUB_PACE", 1.0),
        )


@dataclass(frozen=True, slots=True)
class BugsinkSettings:
    """Where to pull from a Bugsink server. ``token`` never appears in ``repr``."""

    base_url: str
    project: str
    token: str = field(default="", repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> BugsinkSettings:
        env = os.environ if environ is None else environ
        token = env_text(env, "BUGSINK_TOKEN")
        if not token:
            raise MissingEnvError("BUGSINK_TOKEN", "a Bugsink API token")
        if not env_text(env, "BUGSINK_BASE_URL"):
            raise MissingEnvError("BUGSINK_BASE_URL", "the Bugsink server URL")
        project = env_text(env, "BUGSINK_PROJECT")
        if not project:
            raise MissingEnvError("BUGSINK_PROJECT", "the Bugsink project id")
        return cls(base_url=env_url(env, "BUGSINK_BASE_URL", ""), project=project, token=token)
