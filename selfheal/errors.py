"""The one exception tree of selfheal.

Every expected failure is a :class:`SelfhealError`; the CLI prints ``str(exc)`` as one line on
stderr and exits with ``exc.exit_code``. Subclasses carry the fields that explain the failure
and build their message from them; third-party errors are translated at the boundary with
``raise ... from exc``.

::

    SelfhealError
    ├── InputError            a file we were asked to read is missing, malformed or hostile (path, problem)
    ├── ConfigError           configuration or environment is missing or wrong (setting, problem)
    │   └── MissingEnvError   a required environment variable is unset (name)
    ├── RemoteError           a remote service failed (service, status, url, detail); the shared
    │   │                     HTTP layer raises it for any service, named in the message
    │   ├── SentryError       Sentry-specific: an organization or project that does not exist, an
    │   │                     answer that is not Sentry's shape
    │   ├── BugsinkError      Bugsink-specific: a project or an answer that is not Bugsink's shape
    │   └── GitHubError       GitHub API
    └── NotebookError         a notebook failed while executing (notebook, cell, detail)
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "BugsinkError",
    "ConfigError",
    "GitHubError",
    "InputError",
    "MissingEnvError",
    "NotebookError",
    "RemoteError",
    "SelfhealError",
    "SentryError",
]


class SelfhealError(Exception):
    """Base class of every expected failure; ``str()`` is one clear line."""

    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        # One line, whatever the wrapped text contains.
        return " ".join(self.message.split())


class InputError(SelfhealError):
    """An input file is missing, unreadable, malformed, incomplete or too large."""

    exit_code = 2

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class OutputError(SelfhealError):
    """An output cannot be written (disk full, read-only, permission, a file where a folder
    should be); the file it would have replaced is left as it was."""

    exit_code = 2

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class ConfigError(SelfhealError):
    """Configuration is invalid (a setting in pyproject.toml, selfheal.toml, or the environment)."""

    exit_code = 2

    def __init__(self, setting: str, problem: str) -> None:
        self.setting = setting
        self.problem = problem
        super().__init__(f"configuration {setting}: {problem}")


class MissingEnvError(ConfigError):
    """A required environment variable is not set."""

    def __init__(self, name: str, purpose: str) -> None:
        self.name = name
        super().__init__(name, f"environment variable {name} is not set ({purpose})")


class RemoteError(SelfhealError):
    """A remote service answered with an error or could not be reached."""

    exit_code = 3

    def __init__(self, service: str, detail: str, *, status: int | None = None, url: str = "") -> None:
        self.service = service
        self.status = status
        self.url = url
        self.detail = detail
        where = f" {url}" if url else ""
        code = f" HTTP {status}" if status is not None else ""
        super().__init__(f"{service}{code}{where}: {detail}")


class SentryError(RemoteError):
    """A Sentry-specific failure: what Sentry answered makes the pull impossible (an unknown
    organization or project, an answer that is not Sentry's shape). HTTP failures of any
    service are plain :class:`RemoteError`."""

    def __init__(self, detail: str, *, status: int | None = None, url: str = "") -> None:
        super().__init__("Sentry", detail, status=status, url=url)


class BugsinkError(RemoteError):
    """A Bugsink-specific failure: an answer that is not Bugsink's shape, an issue without
    stored events. HTTP failures of any service are plain :class:`RemoteError`."""

    def __init__(self, detail: str, *, status: int | None = None, url: str = "") -> None:
        super().__init__("Bugsink", detail, status=status, url=url)


class GitHubError(RemoteError):
    """The GitHub API failed; ``reason`` is GitHub's own message (scrubbed), when it sent one."""

    def __init__(self, detail: str, *, status: int | None = None, url: str = "", reason: str = "") -> None:
        self.reason = reason
        super().__init__("GitHub", detail, status=status, url=url)


class NotebookError(SelfhealError):
    """A notebook failed; the rendered report still shows the failing cell."""

    exit_code = 4

    def __init__(self, notebook: str, detail: str, *, cell: int | None = None) -> None:
        self.notebook = notebook
        self.cell = cell
        self.detail = detail
        at = f" (cell {cell})" if cell is not None else ""
        super().__init__(f"notebook {notebook}{at} failed: {detail}")
