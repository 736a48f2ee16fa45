"""Map the paths that appear in stack frames and reports to repository paths.

Frames arrive as ``webpack:///./src/x.ts``, ``app:///_next/server/app/page.js``,
``http://127.0.0.1:4173/js/search.js``, ``/srv/app/src/x.py``,
``/usr/lib/python3.11/site-packages/pkg/x.py`` … A repository path is what a person would
open: ``src/x.ts``, ``js/search.js``. Configured mappings (``[[tool.selfheal.paths]]``) are
applied first; then well-known prefixes are stripped; then, when a repository checkout is
available, the longest suffix that exists in it wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath

from selfheal.config import PathMapping

__all__ = ["RepoTree", "is_vendor_path", "to_repo_path"]

_SCHEME_PREFIX = re.compile(r"^(?:webpack(?:-internal)?://[^/]*/|app:///|file://|https?://[^/]+/)")
_VENDOR = re.compile(
    r"(?:^|/)(?:site-packages|dist-packages|node_modules|__pypackages__|lib/python\d[\d.]*|"
    r"\.venv|venv|<frozen [^>]*>|internal/|node:)"
)
_NON_PATH = re.compile(r"^(?:<[^>]*>|\?|native|\[native code\])$")


def is_vendor_path(raw: str) -> bool:
    """True for third-party or runtime code (site-packages, node_modules, stdlib, frozen)."""
    return bool(_VENDOR.search(raw.replace("\\", "/")))


class RepoTree:
    """The set of files in a repository checkout, for verifying and resolving path guesses."""

    def __init__(self, files: Iterable[str]) -> None:
        self._files = frozenset(files)
        by_name: dict[str, list[str]] = {}
        for f in self._files:
            by_name.setdefault(PurePosixPath(f).name, []).append(f)
        self._by_name = by_name

    @classmethod
    def scan(cls, root: Path, *, limit: int = 200_000) -> RepoTree | None:
        """Walk a checkout (skipping VCS, virtualenv and dependency folders); None if absent."""
        if not root.is_dir():
            return None
        skip = {
            ".git",
            ".venv",
            "venv",
            "node_modules",
            "__pycache__",
            ".mypy_cache",
            ".ruff_cache",
            "out",
            "reports",
        }
        files: list[str] = []
        stack = [root]
        while stack and len(files) < limit:
            folder = stack.pop()
            try:
                entries = list(folder.iterdir())
            except OSError:
                continue
            for entry in entries:
                if entry.is_dir():
                    if entry.name not in skip and not entry.is_symlink():
                        stack.append(entry)
                elif entry.is_file():
                    files.append(entry.relative_to(root).as_posix())
        return cls(files)

    def __contains__(self, path: object) -> bool:
        return path in self._files

    def resolve(self, guess: str) -> str | None:
        """The repository file whose path is the longest suffix match of ``guess``."""
        if guess in self._files:
            return guess
        parts = PurePosixPath(guess).parts
        for start in range(1, len(parts)):
            candidate = "/".join(parts[start:])
            if candidate in self._files:
                return candidate
        matches = [f for f in self._by_name.get(PurePosixPath(guess).name, []) if guess.endswith(f)]
        return max(matches, key=len) if matches else None


def to_repo_path(
    raw: str,
    *,
    mappings: Sequence[PathMapping] = (),
    tree: RepoTree | None = None,
    strip_prefixes: Sequence[str] = (),
) -> str:
    """Best repository-relative path for a frame or report path ('' when there is none)."""
    path = raw.strip().replace("\\", "/")
    if not path or _NON_PATH.match(path):
        return ""
    for mapping in mappings:
        if path.startswith(mapping.source):
            path = mapping.target + path[len(mapping.source) :]
            break
    path = _SCHEME_PREFIX.sub("", path)
    path = path.split("?", 1)[0].split("#", 1)[0]
    for prefix in strip_prefixes:
        if prefix and path.startswith(prefix):
            path = path[len(prefix) :]
            break
    while path.startswith(("./", "~/")):
        path = path[2:]
    if tree is not None:
        resolved = tree.resolve(path.lstrip("/"))
        if resolved:
            return resolved
    if path.startswith("/"):
        # An absolute path from another machine: keep from the first folder that looks like
        # a source root, else the last two components.
        parts = [p for p in path.split("/") if p]
        for marker in ("src", "app", "lib", "tests", "test", "packages", "apps", "web", "server"):
            if marker in parts[:-1]:
                return "/".join(parts[parts.index(marker) :])
        return "/".join(parts[-2:])
    return path
