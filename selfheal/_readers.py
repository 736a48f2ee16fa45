"""Typed readers of setting values: one rule and one message per kind of value.

The same readers check ``[tool.selfheal]`` / ``selfheal.toml`` keys (:mod:`selfheal.config`),
environment variables (:mod:`selfheal.settings`) and notebook parameters
(:func:`selfheal.runner.check_param_types`). Each takes the value and the name of the setting it
came from, returns it typed, and raises :class:`~selfheal.errors.ConfigError` naming that
setting otherwise (``configuration tool.selfheal.pr.max_new: must be a whole number >= 0, got
-1``). Nothing is converted silently: ``"10"`` is not a whole number here; the ``env_*``
readers parse an environment variable's text first and then apply the same rule.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from selfheal.errors import ConfigError
from selfheal.models import SEVERITIES, Severity
from selfheal.scrub import strip_url_userinfo

__all__ = [
    "env_int",
    "env_text",
    "env_url",
    "read_bool",
    "read_choice",
    "read_int",
    "read_list",
    "read_number",
    "read_regex",
    "read_seconds",
    "read_severity",
    "read_str",
    "read_strings",
    "read_table",
    "read_tables",
    "read_url",
]

#: How much of a refused value an error message shows.
_SHOWN_CHARS = 60


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"


def read_int(value: object, setting: str, *, minimum: int | None = 0) -> int:
    """A whole number (not a bool, not a float, not text), at least ``minimum`` unless ``None``."""
    wanted = "a whole number" if minimum is None else f"a whole number >= {minimum}"
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(setting, f"must be {wanted}, got {_shown(value)}")
    if minimum is not None and value < minimum:
        raise ConfigError(setting, f"must be {wanted}, got {value}")
    return value


def read_number(value: object, setting: str, *, minimum: float | None = 0) -> float:
    """An int or float (not a bool), at least ``minimum`` unless ``None``; returned as float."""
    wanted = "a number" if minimum is None else f"a number >= {minimum:g}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(setting, f"must be {wanted}, got {_shown(value)}")
    if minimum is not None and value < minimum:
        raise ConfigError(setting, f"must be {wanted}, got {value}")
    return float(value)


def read_seconds(value: object, setting: str) -> float:
    """A duration in seconds, more than 0."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(setting, f"must be a number of seconds > 0, got {_shown(value)}")
    return float(value)


def read_bool(value: object, setting: str) -> bool:
    """``true`` or ``false``; the strings ``"true"``/``"false"`` are refused."""
    if not isinstance(value, bool):
        raise ConfigError(setting, f"must be true or false (without quotes), got {_shown(value)}")
    return value


def read_str(value: object, setting: str, *, empty: bool = False) -> str:
    """A string, non-empty unless ``empty``."""
    if not isinstance(value, str) or (not empty and not value):
        wanted = "a string" if empty else "a non-empty string"
        raise ConfigError(setting, f"must be {wanted}, got {_shown(value)}")
    return value


def read_strings(value: object, setting: str) -> tuple[str, ...]:
    """An array of non-empty strings (a single string is refused, not split)."""
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise ConfigError(setting, f'must be an array of strings, like ["selfheal"], got {_shown(value)}')
    if not all(isinstance(v, str) and v for v in value):
        raise ConfigError(setting, f"must be an array of non-empty strings, got {_shown(value)}")
    return tuple(value)


def read_list(value: object, setting: str) -> list[Any]:
    """A list of anything (a notebook's ``list`` parameter)."""
    if not isinstance(value, list):
        raise ConfigError(setting, f"must be a list, got {_shown(value)}")
    return value


def read_table(value: object, setting: str) -> dict[str, Any]:
    """A table (TOML ``[table]``, a mapping)."""
    if not isinstance(value, dict):
        raise ConfigError(setting, f"must be a table, got {_shown(value)}")
    return value


def read_tables(value: object, setting: str) -> list[dict[str, Any]]:
    """An array of tables (TOML ``[[table]]``)."""
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(setting, "must be an array of tables ([[...]])")
    return value


def read_choice(value: object, setting: str, choices: Sequence[str]) -> str:
    """One of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ConfigError(setting, f"must be one of {', '.join(choices)}, got {_shown(value)}")
    return value


def read_severity(value: object, setting: str) -> Severity:
    """A severity name (:data:`selfheal.models.SEVERITIES`)."""
    for severity in SEVERITIES:
        if value == severity:
            return severity
    raise ConfigError(setting, f"must be one of {', '.join(SEVERITIES)}, got {_shown(value)}")


def read_regex(value: object, setting: str) -> str:
    """A non-empty regular expression that compiles."""
    if not isinstance(value, str) or not value:
        raise ConfigError(setting, "must be a non-empty regular expression string")
    try:
        re.compile(value)
    except re.error as exc:
        raise ConfigError(setting, f"invalid regular expression: {exc}") from exc
    return value


def read_url(value: str, setting: str) -> str:
    """An http(s) URL without its trailing ``/`` (a refused one is shown without credentials)."""
    url = value.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ConfigError(setting, f"must be an http(s) URL, got {strip_url_userinfo(url)!r}")
    return url


def env_text(env: Mapping[str, str], name: str) -> str:
    """An environment variable's value without surrounding spaces ("" when unset)."""
    return env.get(name, "").strip()


def env_int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    """A whole-number environment variable (:func:`read_int`'s rule); ``default`` when unset or empty."""
    raw = env_text(env, name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(name, f"must be a whole number >= {minimum}, got {_shown(raw)}") from None
    return read_int(value, name, minimum=minimum)


def env_number(env: Mapping[str, str], name: str, default: float, *, minimum: float = 0) -> float:
    """A number environment variable (:func:`read_number`'s rule); ``default`` when unset or empty."""
    raw = env_text(env, name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):  # not a number, nan or inf
        raise ConfigError(name, f"must be a number >= {minimum:g}, got {_shown(raw)}")
    return read_number(value, name, minimum=minimum)


def env_url(env: Mapping[str, str], name: str, default: str) -> str:
    """An http(s) URL environment variable (:func:`read_url`); ``default`` when unset or empty."""
    return read_url(env_text(env, name) or default, name)
