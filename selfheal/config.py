"""One configuration: ``[tool.selfheal]`` in the target repository's ``pyproject.toml``, or a
``selfheal.toml`` (whose top level is the same table). Every key has a documented default, so
an empty or missing configuration works.

Example (all keys optional)::

    [tool.selfheal]
    repo_root = "."                 # where CODEOWNERS and source files are looked up
    min_frequency = 2               # skip Sentry issues seen fewer times (SENTRY_ERROR_MIN_FREQUENCY wins)
    default_owner = "unassigned"
    rules_file = "selfheal-rules.toml"   # human merge / split decisions
    source = "auto"                 # errors for `selfheal run`: auto|sentry|bugsink|file|none|sample
    playwright_report = ""          # the test job's Playwright JSON report; "" looks in the usual places
    junit_report = ""               # the test job's JUnit XML report; "" looks in the usual places

    [tool.selfheal.severity]
    users_high = 10                 # an issue affecting at least this many users is high
    users_blocker = 100             # ... and at least this many is a blocker
    frequency_high = 50             # events in the period
    frequency_blocker = 1000
    trend_high = 3.0                # last day's events at least 3x the daily average -> high
    trend_min_events = 10           # ... and at least this many events in that last day

    [[tool.selfheal.severity.rules]]    # the original pipeline's kind of rule
    pattern = "(?i)payment|checkout"
    field = "title"                 # title | message | any
    severity = "blocker"

    [[tool.selfheal.owners]]        # path rules; first match wins; CODEOWNERS is consulted after these
    pattern = "^src/billing/"
    owner = "billing"
    area = "backend"

    [[tool.selfheal.paths]]         # map stack-frame paths to repository paths (applied in order)
    from = "app:///"
    to = "web/"

    [tool.selfheal.pr]
    max_new = 5
    severities = ["blocker", "high"]
    draft = true
    labels = ["selfheal"]
    branch_prefix = "selfheal/"

    [tool.selfheal.agent]           # optional: a coding agent proposes a fix on each new PR (docs/agent.md)
    command = ["my-agent", "--task", "{task_file}"]   # none: no agent runs (the default)
    name = "my-agent"               # shown in the commit message and the PR (default: the program name)
    timeout = 900                   # seconds; the agent's process group is killed after this
    test_command = ["pytest", "-q"] # judges the change (default: none)
    test_timeout = 900
    max_runs = 5                    # agent runs per `selfheal pr`
    protected = ["migrations/**"]   # never accepted from the agent (.github/ and .git never are)
    env = ["OPENAI_API_KEY"]        # passed to the agent; nothing else secret is
    worktree_dir = ""               # where temporary worktrees go (default: the system temp dir)
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from selfheal.errors import ConfigError
from selfheal.models import AREAS, SEVERITIES

__all__ = [
    "AgentConfig",
    "Config",
    "OwnerRule",
    "PathMapping",
    "PullRequestConfig",
    "SeverityConfig",
    "SeverityRule",
    "load_config",
]


@dataclass(frozen=True, slots=True)
class SeverityRule:
    pattern: str
    severity: str
    field: str = "any"

    def matches(self, title: str, message: str) -> bool:
        text = {"title": title, "message": message}.get(self.field, f"{title}\n{message}")
        return re.search(self.pattern, text) is not None


@dataclass(frozen=True, slots=True)
class SeverityConfig:
    users_high: int = 10
    users_blocker: int = 100
    frequency_high: int = 50
    frequency_blocker: int = 1000
    trend_high: float = 3.0
    trend_min_events: int = 10
    rules: tuple[SeverityRule, ...] = ()


@dataclass(frozen=True, slots=True)
class OwnerRule:
    pattern: str
    owner: str
    area: str | None = None


@dataclass(frozen=True, slots=True)
class PathMapping:
    source: str
    target: str


@dataclass(frozen=True, slots=True)
class PullRequestConfig:
    max_new: int = 5
    severities: tuple[str, ...] = ("blocker", "high")
    draft: bool = True
    labels: tuple[str, ...] = ("selfheal",)
    branch_prefix: str = "selfheal/"


@dataclass(frozen=True, slots=True)
class AgentConfig:
    """``[tool.selfheal.agent]``: the coding agent that proposes fixes (off when ``command`` is empty)."""

    command: tuple[str, ...] = ()
    name: str = ""
    timeout: float = 900.0
    test_command: tuple[str, ...] = ()
    test_timeout: float = 900.0
    max_runs: int = 5
    protected: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    worktree_dir: Path | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.command)

    @property
    def display_name(self) -> str:
        if self.name:
            return self.name
        return Path(self.command[0]).name if self.command else "agent"


@dataclass(frozen=True, slots=True)
class Config:
    repo_root: Path = Path()
    min_frequency: int = 2
    default_owner: str = "unassigned"
    rules_file: str = "selfheal-rules.toml"
    severity: SeverityConfig = field(default_factory=SeverityConfig)
    owners: tuple[OwnerRule, ...] = ()
    paths: tuple[PathMapping, ...] = ()
    pr: PullRequestConfig = field(default_factory=PullRequestConfig)
    source_file: Path | None = None
    agent: AgentConfig = field(default_factory=AgentConfig)
    #: auto (Sentry or Bugsink from the environment, else the export already in out/), or one by name.
    source: str = "auto"
    playwright_report: str = ""
    junit_report: str = ""


def _table(data: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{where}.{key}", "must be a table")
    return value


def _list_of_tables(data: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(f"{where}.{key}", "must be an array of tables ([[...]])")
    return value


def _regex(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(where, "must be a non-empty regular expression string")
    try:
        re.compile(value)
    except re.error as exc:
        raise ConfigError(where, f"invalid regular expression: {exc}") from exc
    return value


def _severity_name(value: Any, where: str) -> str:
    if value not in SEVERITIES:
        raise ConfigError(where, f"must be one of {', '.join(SEVERITIES)}, got {value!r}")
    return str(value)


def _string_list(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(where, "must be an array of non-empty strings")
    return tuple(value)


def _seconds(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(where, f"must be a number of seconds > 0, got {value!r}")
    return float(value)


_ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def parse_agent_config(data: dict[str, Any], *, base: Path, where: str) -> AgentConfig:
    """The ``agent`` table (every key optional; no ``command``: no agent)."""
    known = set(AgentConfig.__dataclass_fields__)
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}", f"unknown key (known: {', '.join(sorted(known))})")
    defaults = AgentConfig()
    command = _string_list(data.get("command", []), f"{where}.command")
    test_command = _string_list(data.get("test_command", []), f"{where}.test_command")
    name = data.get("name", "")
    if not isinstance(name, str) or len(name) > 50 or not re.fullmatch(r"[A-Za-z0-9 ._-]*", name):
        raise ConfigError(f"{where}.name", "must be a short name (letters, digits, space . _ -; at most 50)")
    max_runs = data.get("max_runs", defaults.max_runs)
    if isinstance(max_runs, bool) or not isinstance(max_runs, int) or max_runs < 0:
        raise ConfigError(f"{where}.max_runs", f"must be a whole number >= 0, got {max_runs!r}")
    env = _string_list(data.get("env", []), f"{where}.env")
    for env_name in env:
        if not _ENV_NAME_RE.fullmatch(env_name):
            raise ConfigError(f"{where}.env", f"{env_name!r} is not an environment variable name")
    worktree_dir = data.get("worktree_dir", "")
    if not isinstance(worktree_dir, str):
        raise ConfigError(f"{where}.worktree_dir", "must be a path string")
    folder = Path(worktree_dir) if worktree_dir else None
    return AgentConfig(
        command=command,
        name=name,
        timeout=_seconds(data.get("timeout", defaults.timeout), f"{where}.timeout"),
        test_command=test_command,
        test_timeout=_seconds(data.get("test_timeout", defaults.test_timeout), f"{where}.test_timeout"),
        max_runs=max_runs,
        protected=_string_list(data.get("protected", []), f"{where}.protected"),
        env=env,
        worktree_dir=None if folder is None else folder if folder.is_absolute() else base / folder,
    )


def parse_config(data: dict[str, Any], *, base: Path, where: str = "tool.selfheal") -> Config:
    """Build a Config from the ``[tool.selfheal]`` table (already parsed TOML)."""
    sev = _table(data, "severity", where)
    sev_where = f"{where}.severity"
    rules = tuple(
        SeverityRule(
            pattern=_regex(r.get("pattern"), f"{sev_where}.rules[{i}].pattern"),
            severity=_severity_name(r.get("severity"), f"{sev_where}.rules[{i}].severity"),
            field=str(r.get("field", "any")),
        )
        for i, r in enumerate(_list_of_tables(sev, "rules", sev_where))
    )
    defaults = SeverityConfig()
    try:
        severity = SeverityConfig(
            users_high=int(sev.get("users_high", defaults.users_high)),
            users_blocker=int(sev.get("users_blocker", defaults.users_blocker)),
            frequency_high=int(sev.get("frequency_high", defaults.frequency_high)),
            frequency_blocker=int(sev.get("frequency_blocker", defaults.frequency_blocker)),
            trend_high=float(sev.get("trend_high", defaults.trend_high)),
            trend_min_events=int(sev.get("trend_min_events", defaults.trend_min_events)),
            rules=rules,
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(sev_where, f"thresholds must be numbers ({exc})") from exc
    owners = []
    for i, r in enumerate(_list_of_tables(data, "owners", where)):
        area = r.get("area")
        if area is not None and area not in AREAS:
            raise ConfigError(f"{where}.owners[{i}].area", f"must be one of {', '.join(AREAS)}")
        if not isinstance(r.get("owner"), str) or not r["owner"]:
            raise ConfigError(f"{where}.owners[{i}].owner", "must be a non-empty string")
        owners.append(OwnerRule(_regex(r.get("pattern"), f"{where}.owners[{i}].pattern"), r["owner"], area))
    paths = []
    for i, r in enumerate(_list_of_tables(data, "paths", where)):
        if not isinstance(r.get("from"), str) or not isinstance(r.get("to", ""), str):
            raise ConfigError(f"{where}.paths[{i}]", "needs string keys 'from' and 'to'")
        paths.append(PathMapping(r["from"], r.get("to", "")))
    pr = _table(data, "pr", where)
    pr_defaults = PullRequestConfig()
    severities = tuple(
        _severity_name(s, f"{where}.pr.severities") for s in pr.get("severities", pr_defaults.severities)
    )
    max_new = pr.get("max_new", pr_defaults.max_new)
    if not isinstance(max_new, int) or max_new < 0:
        raise ConfigError(f"{where}.pr.max_new", "must be a whole number >= 0")
    labels = tuple(str(x) for x in pr.get("labels", pr_defaults.labels))
    for label in labels:
        if len(label) > 50:
            raise ConfigError(
                f"{where}.pr.labels", f"label {label[:20]!r}… is longer than GitHub's 50 characters"
            )
    root = Path(str(data.get("repo_root", ".")))
    return Config(
        repo_root=root if root.is_absolute() else (base / root),
        min_frequency=int(data.get("min_frequency", 2)),
        default_owner=str(data.get("default_owner", "unassigned")),
        rules_file=str(data.get("rules_file", "selfheal-rules.toml")),
        source=str(data.get("source", "auto")),
        playwright_report=str(data.get("playwright_report", "")),
        junit_report=str(data.get("junit_report", "")),
        severity=severity,
        owners=tuple(owners),
        paths=tuple(paths),
        pr=PullRequestConfig(
            max_new=max_new,
            severities=severities,
            draft=bool(pr.get("draft", True)),
            labels=labels,
            branch_prefix=str(pr.get("branch_prefix", pr_defaults.branch_prefix)),
        ),
        agent=parse_agent_config(_table(data, "agent", where), base=base, where=f"{where}.agent"),
    )


def load_config(root: str | Path = ".") -> Config:
    """Find the configuration for the repository at ``root``.

    ``selfheal.toml`` wins over ``pyproject.toml``'s ``[tool.selfheal]``; neither is required.
    """
    base = Path(root)
    for name, path_in in (("selfheal.toml", ()), ("pyproject.toml", ("tool", "selfheal"))):
        candidate = base / name
        if not candidate.is_file():
            continue
        try:
            data: Any = tomllib.loads(candidate.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(str(candidate), f"invalid TOML: {exc}") from exc
        for key in path_in:
            data = data.get(key, None) if isinstance(data, dict) else None
        if data is None:
            continue
        if not isinstance(data, dict):
            raise ConfigError(str(candidate), "[tool.selfheal] must be a table")
        config = parse_config(data, base=base, where=".".join(path_in) or name)
        return Config(
            **{
                **{f: getattr(config, f) for f in config.__dataclass_fields__},
                "source_file": candidate,
            }
        )
    return Config(repo_root=base)
