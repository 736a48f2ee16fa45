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

from selfheal._readers import (
    read_bool,
    read_choice,
    read_int,
    read_number,
    read_regex,
    read_seconds,
    read_severity,
    read_str,
    read_strings,
    read_table,
    read_tables,
)
from selfheal.errors import ConfigError
from selfheal.models import AREAS, Severity
from selfheal.storage import read_text

#: A configuration file larger than this is refused.
MAX_CONFIG_BYTES = 5 * 1024 * 1024

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
    severity: Severity
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
    severities: tuple[Severity, ...] = ("blocker", "high")
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
    return read_table(data.get(key, {}), f"{where}.{key}")


def _tables(data: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    return read_tables(data.get(key, []), f"{where}.{key}")


#: What ``git check-ref-format`` refuses in a branch name.
_BAD_REF = re.compile(r"\.\.|[\x00-\x20\x7f~^:?*\[\\]|@\{|//|/\.|\.lock(?:/|$)|^[/.-]|\.$")


def _branch_prefix(value: str, where: str) -> str:
    """The prefix must make valid branch names (``git check-ref-format``) when a name follows."""
    if _BAD_REF.search(value + "x") or value == "@":
        raise ConfigError(
            where,
            f"{value!r} does not make a valid git branch name (no '..', spaces, ~^:?*[\\, '@{{', "
            "'//', no leading '/', '-' or '.', no part starting with '.' or ending with '.lock')",
        )
    return value


_RULE_FIELDS = ("title", "message", "any")


_ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def parse_agent_config(data: dict[str, Any], *, base: Path, where: str) -> AgentConfig:
    """The ``agent`` table (every key optional; no ``command``: no agent)."""
    known = set(AgentConfig.__dataclass_fields__)
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}", f"unknown key (known: {', '.join(sorted(known))})")
    defaults = AgentConfig()
    name = data.get("name", defaults.name)
    if not isinstance(name, str) or len(name) > 50 or not re.fullmatch(r"[A-Za-z0-9 ._-]*", name):
        raise ConfigError(f"{where}.name", "must be a short name (letters, digits, space . _ -; at most 50)")
    env = read_strings(data.get("env", defaults.env), f"{where}.env")
    for env_name in env:
        if not _ENV_NAME_RE.fullmatch(env_name):
            raise ConfigError(f"{where}.env", f"{env_name!r} is not an environment variable name")
    worktree_dir = read_str(data.get("worktree_dir", ""), f"{where}.worktree_dir", empty=True)
    folder = Path(worktree_dir) if worktree_dir else None
    return AgentConfig(
        command=read_strings(data.get("command", defaults.command), f"{where}.command"),
        name=name,
        timeout=read_seconds(data.get("timeout", defaults.timeout), f"{where}.timeout"),
        test_command=read_strings(data.get("test_command", defaults.test_command), f"{where}.test_command"),
        test_timeout=read_seconds(data.get("test_timeout", defaults.test_timeout), f"{where}.test_timeout"),
        max_runs=read_int(data.get("max_runs", defaults.max_runs), f"{where}.max_runs"),
        protected=read_strings(data.get("protected", defaults.protected), f"{where}.protected"),
        env=env,
        worktree_dir=None if folder is None else folder if folder.is_absolute() else base / folder,
    )


def _severity_config(data: dict[str, Any], where: str) -> SeverityConfig:
    rules = []
    for i, r in enumerate(_tables(data, "rules", where)):
        rule_where = f"{where}.rules[{i}]"
        rules.append(
            SeverityRule(
                pattern=read_regex(r.get("pattern"), f"{rule_where}.pattern"),
                severity=read_severity(r.get("severity"), f"{rule_where}.severity"),
                field=read_choice(r.get("field", "any"), f"{rule_where}.field", _RULE_FIELDS),
            )
        )
    defaults = SeverityConfig()

    def count(key: str) -> int:
        return read_int(data.get(key, getattr(defaults, key)), f"{where}.{key}")

    return SeverityConfig(
        users_high=count("users_high"),
        users_blocker=count("users_blocker"),
        frequency_high=count("frequency_high"),
        frequency_blocker=count("frequency_blocker"),
        trend_high=read_number(data.get("trend_high", defaults.trend_high), f"{where}.trend_high"),
        trend_min_events=count("trend_min_events"),
        rules=tuple(rules),
    )


def _pull_request_config(data: dict[str, Any], where: str) -> PullRequestConfig:
    defaults = PullRequestConfig()
    severities = tuple(
        read_severity(s, f"{where}.severities")
        for s in read_strings(data.get("severities", defaults.severities), f"{where}.severities")
    )
    labels = read_strings(data.get("labels", defaults.labels), f"{where}.labels")
    for label in labels:
        if len(label) > 50:
            raise ConfigError(
                f"{where}.labels", f"label {label[:20]!r}… is longer than GitHub's 50 characters"
            )
    branch_prefix = read_str(data.get("branch_prefix", defaults.branch_prefix), f"{where}.branch_prefix")
    return PullRequestConfig(
        max_new=read_int(data.get("max_new", defaults.max_new), f"{where}.max_new"),
        severities=severities,
        draft=read_bool(data.get("draft", defaults.draft), f"{where}.draft"),
        labels=labels,
        branch_prefix=_branch_prefix(branch_prefix, f"{where}.branch_prefix"),
    )


def parse_config(data: dict[str, Any], *, base: Path, where: str = "tool.selfheal") -> Config:
    """Build a Config from the ``[tool.selfheal]`` table (already parsed TOML).

    Every key is type-checked by :mod:`selfheal._readers`; a wrong type is a
    :class:`ConfigError` naming the key (``tool.selfheal.pr.draft: must be true or false``),
    never a silent conversion. A key that is absent takes the default of the dataclass field.
    """
    defaults = Config()
    owners = []
    for i, r in enumerate(_tables(data, "owners", where)):
        area = r.get("area")
        owners.append(
            OwnerRule(
                read_regex(r.get("pattern"), f"{where}.owners[{i}].pattern"),
                read_str(r.get("owner"), f"{where}.owners[{i}].owner"),
                None if area is None else read_choice(area, f"{where}.owners[{i}].area", AREAS),
            )
        )
    paths = []
    for i, r in enumerate(_tables(data, "paths", where)):
        if not isinstance(r.get("from"), str) or not isinstance(r.get("to", ""), str):
            raise ConfigError(f"{where}.paths[{i}]", "needs string keys 'from' and 'to'")
        paths.append(PathMapping(r["from"], r.get("to", "")))

    def text(key: str, *, empty: bool = False) -> str:
        return read_str(data.get(key, getattr(defaults, key)), f"{where}.{key}", empty=empty)

    root = Path(read_str(data.get("repo_root", "."), f"{where}.repo_root"))
    return Config(
        repo_root=root if root.is_absolute() else (base / root),
        min_frequency=read_int(data.get("min_frequency", defaults.min_frequency), f"{where}.min_frequency"),
        default_owner=text("default_owner"),
        rules_file=text("rules_file"),
        source=text("source"),
        playwright_report=text("playwright_report", empty=True),
        junit_report=text("junit_report", empty=True),
        severity=_severity_config(_table(data, "severity", where), f"{where}.severity"),
        owners=tuple(owners),
        paths=tuple(paths),
        pr=_pull_request_config(_table(data, "pr", where), f"{where}.pr"),
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
            data: Any = tomllib.loads(read_text(candidate, max_bytes=MAX_CONFIG_BYTES))
        except tomllib.TOMLDecodeError as exc:
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
