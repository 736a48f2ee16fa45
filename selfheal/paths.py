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
    r"(?:^|/)(?:site-packages|dist-packages|node_modules|__pypackages__|lib/python\d[\d.]*|\.venv|venv)/"
    r"|^<frozen [^>]*>|^node:|^internal/"
)
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:/")
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
        """The repository file that shares the longest trailing path with ``guess``.

        A file whose name is unique in the repository matches on its name alone; otherwise at
        least the parent folder must match too, and a tie between candidates is no answer.
        """
        if guess in self._files:
            return guess
        parts = PurePosixPath(guess).parts
        if not parts:
            return None
        candidates = self._by_name.get(parts[-1], [])
        scored: list[tuple[int, str]] = []
        for candidate in candidates:
            theirs = PurePosixPath(candidate).parts
            shared = 0
            while shared < min(len(parts), len(theirs)) and parts[-1 - shared] == theirs[-1 - shared]:
                shared += 1
            scored.append((shared, candidate))
        if not scored:
            return None
        scored.sort(reverse=True)
        best, path = scored[0]
        tie = len(scored) > 1 and scored[1][0] == best
        if tie or (best < 2 and len(candidates) > 1):
            return None
        return path


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
    path = _WINDOWS_DRIVE.sub("/", path)
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
