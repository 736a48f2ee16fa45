"""Who owns a task, which area it is in, and which files to look at.

Owners come from configured path rules first (the original's kind: regex on paths, first match
wins), then from the repository's CODEOWNERS (GitHub syntax, last match wins), else the
configured default owner.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from selfheal.config import Config, OwnerRule

__all__ = ["CodeOwners", "Ownership", "assign_owner", "guess_area"]

_CODEOWNERS_LOCATIONS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
_FRONTEND_EXT = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".vue", ".svelte", ".css", ".html")
_INFRA_HINTS = re.compile(r"(?:^|/)(?:infra|terraform|deploy|k8s|helm|docker|\.github)/|Dockerfile")


@dataclass(frozen=True, slots=True)
class Ownership:
    owner: str
    area: str
    reason: str


def _codeowners_regex(pattern: str) -> re.Pattern[str]:
    """GitHub CODEOWNERS pattern (gitignore-like) as a regex over repository paths."""
    anchored = pattern.startswith("/")
    body = pattern.strip("/")
    directory = pattern.endswith("/")
    parts: list[str] = []
    i = 0
    while i < len(body):
        if body.startswith("**/", i):
            parts.append("(?:.*/)?")
            i += 3
        elif body.startswith("/**", i) and i + 3 == len(body):
            parts.append("/.*")
            i += 3
        elif body[i] == "*":
            parts.append("[^/]*")
            i += 1
        elif body[i] == "?":
            parts.append("[^/]")
            i += 1
        else:
            parts.append(re.escape(body[i]))
            i += 1
    core = "".join(parts)
    prefix = "^" if anchored or "/" in body else "^(?:.*/)?"
    suffix = "/.*$" if directory else "(?:/.*)?$"
    return re.compile(prefix + core + suffix)


class CodeOwners:
    """Parsed CODEOWNERS; :meth:`owners_of` applies GitHub's last-match-wins rule."""

    def __init__(self, text: str) -> None:
        self.rules: list[tuple[str, re.Pattern[str], tuple[str, ...]]] = []
        for line in text.splitlines():
            stripped = line.split("#", 1)[0].strip() if not line.lstrip().startswith("\\#") else line.strip()
            if not stripped:
                continue
            pattern, *owners = stripped.split()
            self.rules.append((pattern, _codeowners_regex(pattern), tuple(owners)))

    @classmethod
    def find(cls, root: Path) -> CodeOwners | None:
        for location in _CODEOWNERS_LOCATIONS:
            candidate = root / location
            if candidate.is_file():
                return cls(candidate.read_text(encoding="utf-8", errors="replace"))
        return None

    def owners_of(self, path: str) -> tuple[str, ...] | None:
        found: tuple[str, ...] | None = None
        for _, regex, owners in self.rules:
            if regex.match(path):
                found = owners
        return found


def guess_area(files: Sequence[str], *, platform: str = "", sources: Iterable[str] = ()) -> str:
    """frontend / backend / infra from file extensions, platform and sources."""
    if any(_INFRA_HINTS.search(f) for f in files[:1]):
        return "infra"
    if files:
        return "frontend" if files[0].endswith(_FRONTEND_EXT) else "backend"
    platform = platform.lower()
    if platform in {"javascript", "react", "vue", "angular", "browser"} or "playwright" in set(sources):
        return "frontend"
    return "backend"


def _match_rule(rules: Sequence[OwnerRule], files: Sequence[str]) -> tuple[OwnerRule, str] | None:
    for rule in rules:
        for path in files:
            if re.search(rule.pattern, path):
                return rule, path
    return None


def assign_owner(
    files: Sequence[str],
    config: Config,
    *,
    codeowners: CodeOwners | None = None,
    platform: str = "",
    sources: Iterable[str] = (),
) -> Ownership:
    """Owner and area for a task whose suggested files are ``files`` (most relevant first)."""
    sources = tuple(sources)
    area = guess_area(files, platform=platform, sources=sources)
    matched = _match_rule(config.owners, files)
    if matched:
        rule, path = matched
        return Ownership(rule.owner, rule.area or area, f"path rule /{rule.pattern}/ matched {path}")
    if codeowners is not None:
        for path in files:
            owners = codeowners.owners_of(path)
            if owners:
                return Ownership(" ".join(owners), area, f"CODEOWNERS matched {path}")
    return Ownership(config.default_owner, area, "no owner rule matched")
