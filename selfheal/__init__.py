"""selfheal: production errors and test failures in, reviewed draft pull requests out."""

from __future__ import annotations

import selfheal.startup_signals  # noqa: F401 - first: Ctrl-C while importing is one line
from selfheal.config import Config, load_config
from selfheal.errors import (
    ConfigError,
    GitHubError,
    InputError,
    MissingEnvError,
    NotebookError,
    RemoteError,
    SelfhealError,
    SentryError,
)
from selfheal.models import Evidence, ExpectedFix, Frame, Occurrence, PatchTask
from selfheal.records import Failure

__version__ = "0.1.0"

__all__ = [
    "Config",
    "ConfigError",
    "Evidence",
    "ExpectedFix",
    "Failure",
    "Frame",
    "GitHubError",
    "InputError",
    "MissingEnvError",
    "NotebookError",
    "Occurrence",
    "PatchTask",
    "RemoteError",
    "SelfhealError",
    "SentryError",
    "__version__",
    "load_config",
]
