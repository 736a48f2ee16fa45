"""Map the paths that appear in stack frames and reports to repository paths.

Frames arrive as ``webpack:///./src/x.ts``, ``app:///_next/server/app/page.js``,
``http://127.0.0.1:4173/js/search.js``, ``file:///home/runner/work/shop/shop/src/x.ts``,
``C:\\repo\\src\\Win.php``, ``../../src/views.js``, ``src/processing.rs:148``,
``/usr/lib/python3.11/site-packages/pkg/x.py`` … A repository path is what a person would
open: ``src/x.ts``, ``js/search.js``. :func:`to_repo_path` is the one cleaning function every
source uses:

1. configured mappings (``[[tool.selfheal.paths]]``) first;
2. URL schemes and hosts, query strings, ``:line:column`` suffixes, Windows drives and
   backslashes, ``./`` and ``../`` go;
3. CI workspace folders (GitHub Actions ``/home/runner/work/<repo>/<repo>/`` and
   ``D:\\a\\<repo>\\<repo>\\``, GitLab ``/builds/<group>/<project>/``, ``/github/workspace/``,
   Jenkins, CircleCI, Bitbucket, Drone, Buildkite …) and a given root folder go;
4. with a checkout (:class:`RepoTree`) the repository file sharing the longest trailing path
   wins, ties decided by the whole absolute path; when still unsure the cleaned path is kept;
5. what is left must be a plausible file path (a file name with an extension, or a known
   extension-less name like ``Dockerfile``), else the answer is ``''``: ``lambda``, ``123``,
   ``<anonymous>`` or an argument list are not files.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath
from typing import Final

from selfheal.config import PathMapping

__all__ = ["RepoTree", "is_plausible_file_path", "is_vendor_module", "is_vendor_path", "to_repo_path"]

_URL_PREFIX = re.compile(
    r"^(?:webpack(?:-internal)?://[^/]*/|app:///|app://[^/]*/|[a-z][a-z0-9+.-]*://[^/]*/?)",
    re.IGNORECASE,
)
_VENDOR = re.compile(
    r"(?:^|/)(?:site-packages|dist-packages|node_modules|bower_components|__pypackages__|"
    r"lib/python\d[\d.]*|\.venv|venv|vendor|Pods|Carthage|\.cargo/registry|rustc/[0-9a-f]+|"
    r"go/pkg/mod|gems/[^/]+/gems|gems/[\w.-]+-\d[\w.]*|\.pub-cache|flutter/packages/flutter)/"
    r"|^<frozen [^>]*>|^node:|^internal/(?:modules|process|timers|bootstrap|main|streams|util|fs|url"
    r"|async_hooks|child_process|crypto|http)/"
    r"|^(?:/usr/(?:local/)?lib|/usr/include|/System/Library|/opt/hostedtoolcache|/usr/local/go)/"
    r"|^dart:|^package:(?:flutter|flutter_test|test|test_api|test_core|matcher|stack_trace|async)/"
    r"|^(?:chrome|moz|safari|safari-web|ms-browser)-extension://"  # browser extensions
    r"|^https?://(?:cdn\.jsdelivr\.net|unpkg\.com|cdnjs\.cloudflare\.com|ajax\.googleapis\.com"
    r"|code\.jquery\.com|www\.googletagmanager\.com|www\.google-analytics\.com|connect\.facebook\.net"
    r"|js\.stripe\.com|browser\.sentry-cdn\.com|static\.cloudflareinsights\.com)/"  # third-party CDNs
)
_WINDOWS_DRIVE = re.compile(r"^/?[A-Za-z]:/")
_LINE_SUFFIX = re.compile(r"(?::\d+){1,2}$|\((?:\d+)(?:,\s*\d+)?\)$|:line \d+$")
_NON_PATH = re.compile(r"^(?:<[^>]*>|\?|native|\[native code\]|\d+|unknown|\[.*\])$", re.IGNORECASE)
#: CI workspace folders: the part before the repository's own files.
_CI_WORKSPACES = (
    re.compile(r"^/?[A-Za-z]:/a/[^/]+/[^/]+/"),  # GitHub Actions, Windows: D:\a\<repo>\<repo>\
    re.compile(r"^/(?:home|Users)/runner/work/[^/]+/[^/]+/"),  # GitHub Actions, Linux and macOS
    re.compile(r"^/__w/[^/]+/[^/]+/"),  # GitHub Actions, container jobs
    re.compile(r"^/github/workspace/"),  # GitHub Actions, Docker actions
    re.compile(r"^/builds/[^/]+/[^/]+/"),  # GitLab CI
    re.compile(r"^/(?:var/lib/jenkins|var/jenkins_home|home/jenkins(?:/agent)?)/workspace/[^/]+/"),
    re.compile(r"^/home/circleci/(?:project|repo)/"),
    re.compile(r"^/opt/atlassian/pipelines/agent/build/"),  # Bitbucket Pipelines
    re.compile(r"^/drone/src/"),
    re.compile(r"^/var/lib/buildkite-agent/builds/[^/]+/[^/]+/[^/]+/"),
    re.compile(r"^/home/vsts/work/\d+/s/"),  # Azure Pipelines
    re.compile(r"^/?[A-Za-z]:/agent/_work/\d+/s/"),
    re.compile(r"^/bitrise/src/"),
    re.compile(r"^/codebuild/output/src\d+/src/(?:[^/]+/){0,3}?"),
    re.compile(r"^/(?:go|root/go|home/[^/]+/go)/src/[^/]+\.[^/]+/[^/]+/[^/]+/"),  # GOPATH: host/owner/repo
    re.compile(r"^/workspace/"),  # Cloud Build, many containers
    re.compile(r"^/(?:usr/src/app|app|code|opt/app|var/www/html)/"),  # Docker images' usual WORKDIR
    re.compile(r"^/android_asset/"),  # Cordova / Capacitor on Android: file:///android_asset/www/…
    re.compile(r"^/(?:private/)?var/(?:mobile|containers)/.*?\.app/"),  # an iOS app bundle
    re.compile(r"^/project/"),  # Playwright's and Docker's conventional mount
)
#: File names without an extension that are still files a fix could touch.
_BARE_FILE_NAMES = frozenset(
    {
        "Dockerfile",
        "Containerfile",
        "Makefile",
        "GNUmakefile",
        "Rakefile",
        "Gemfile",
        "Podfile",
        "Jenkinsfile",
        "Procfile",
        "Vagrantfile",
        "Justfile",
        "Brewfile",
        "Fastfile",
        "Appfile",
        "Caddyfile",
        "BUILD",
        "WORKSPACE",
        "CODEOWNERS",
    }
)
#: A file name with an extension; brackets, parentheses and ``$`` occur in route files
#: (Next.js ``[id]/page.tsx`` and ``(group)/``, Remix ``$slug.tsx``, SvelteKit ``+page.svelte``).
_FILE_NAME = re.compile(r"^[\w.@+$~\[\]()-]*[\w@+$\])-]\.[A-Za-z0-9_+-]{1,12}$")
#: Never in a repository path: whitespace, argument-list commas, quotes, globs, a drive colon.
_FORBIDDEN = re.compile(r"[\s<>,;:\"'|*?{}=]")
#: Build outputs and binaries: a report may name them (a .NET test DLL), a fix never goes there.
_BINARY_EXTENSIONS = frozenset(
    {"dll", "exe", "so", "dylib", "jar", "war", "ear", "aar", "class", "pyc", "pyo", "o", "obj", "a"}
    | {"lib", "pdb", "wasm", "apk", "ipa", "dex", "node", "bin", "bundle", "jsbundle", "hbc"}
)


#: Qualified names of JVM, Android and .NET/Unity runtime and library code (``android.app.ActivityThread``,
#: ``UnityEngine.EventSystems.EventSystem:Update``): events often leave ``in_app`` unset on them.
_VENDOR_MODULE = re.compile(
    r"^(?:java|javax|jdk|sun|com\.sun|kotlin|kotlinx|scala|android|androidx|dalvik|libcore|com\.android"
    r"|com\.google\.android|com\.google\.common|okhttp3|retrofit2|io\.reactivex|org\.apache|org\.springframework"
    r"|org\.jboss|org\.hibernate|org\.eclipse|org\.junit|junit|System|Microsoft|UnityEngine|UnityEditor"
    r"|Mono|Xamarin)[.:]"
)


def is_vendor_module(qualified: str) -> bool:
    """True for a JVM or .NET qualified name (module, class or function) of runtime or library code."""
    return bool(_VENDOR_MODULE.match(qualified))


def is_vendor_path(raw: str) -> bool:
    """True for third-party or runtime code (site-packages, node_modules, vendor, stdlib, frozen)."""
    return bool(_VENDOR.search(raw.replace("\\", "/")))


def is_plausible_file_path(path: str) -> bool:
    """A relative path whose last part is a file name: ``src/x.py``, ``Dockerfile``; not
    ``lambda``, ``123``, ``(String s, int n)`` or ``..``."""
    if not path or path.startswith("/") or _FORBIDDEN.search(path):
        return False
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return False
    name = parts[-1]
    if name in _BARE_FILE_NAMES or name.startswith("Dockerfile."):
        return True
    extension = name.rsplit(".", 1)[-1].lower()
    return (
        bool(_FILE_NAME.match(name))
        and not name.replace(".", "").isdigit()
        and extension not in _BINARY_EXTENSIONS
    )


def _collapse_dots(path: str) -> str:
    """``a/./b/../c`` → ``a/c``; leading ``../`` that climb above the start are dropped."""
    absolute = path.startswith("/")
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return ("/" if absolute else "") + "/".join(parts)


#: Folders that are never the repository's own code (VCS, virtualenvs, dependencies, caches, outputs).
_SKIPPED_FOLDERS: Final = frozenset(
    {".git", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache", "out", "reports"}
)


def _git_files(root: Path) -> list[str] | None:
    """``git ls-files`` of the work tree at ``root`` (paths relative to it); None when ``root``
    is not in one, git is missing or refuses (another user's checkout)."""
    try:
        listed = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            capture_output=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if listed.returncode != 0:
        return None
    names = listed.stdout.decode("utf-8", errors="replace").split("\0")
    return [name for name in names if name]


def _walk_files(root: Path, limit: int) -> list[str]:
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
                if entry.name not in _SKIPPED_FOLDERS and not entry.is_symlink():
                    stack.append(entry)
            elif entry.is_file():
                files.append(entry.relative_to(root).as_posix())
    return files


class RepoTree:
    """The set of files in a repository checkout, for verifying and resolving path guesses."""

    def __init__(self, files: Iterable[str]) -> None:
        self._files = frozenset(files)
        by_name: dict[str, list[str]] = {}
        for f in self._files:
            by_name.setdefault(PurePosixPath(f).name, []).append(f)
        self._by_name = by_name
        self._served: dict[str, list[str]] = {}

    @classmethod
    def scan(cls, root: Path, *, limit: int = 200_000) -> RepoTree | None:
        """The files of a checkout; None if ``root`` is absent.

        In a git work tree, the files git lists (tracked, and new ones it does not ignore), so
        build output, caches and anything else in ``.gitignore`` are not "the repository's
        code"; elsewhere (or without git) a walk. Either way VCS, virtualenv and dependency
        folders are left out.
        """
        if not root.is_dir():
            return None
        listed = _git_files(root)
        if listed is None:
            listed = _walk_files(root, limit)
        return cls(f for f in listed[:limit] if not _SKIPPED_FOLDERS.intersection(f.split("/")[:-1]))

    def __contains__(self, path: object) -> bool:
        return path in self._files

    def resolve(self, guess: str, *, whole: str = "") -> str | None:
        """The repository file that shares the longest trailing path with ``guess``.

        A file whose name is unique in the repository matches on its name alone; otherwise at
        least the parent folder must match too. Candidates sharing as much of ``guess`` are
        told apart by the frame's ``whole`` absolute path (the one sharing more of it wins);
        a tie that even the whole path cannot break is no answer.
        """
        guess = guess.lstrip("/")
        if guess in self._files:
            return guess
        parts = PurePosixPath(guess).parts
        if not parts:
            return None
        candidates = self._by_name.get(parts[-1], [])
        if not candidates:
            return None
        whole_parts = PurePosixPath(whole.replace("\\", "/")).parts if whole else parts
        scored = sorted(
            ((_shared_tail(parts, c), _shared_tail(whole_parts, c), c) for c in candidates),
            reverse=True,
        )
        best, best_whole, path = scored[0]
        if len(scored) > 1:
            second, second_whole, _ = scored[1]
            if second == best and second_whole == best_whole:
                return None
            if best < 2 and best_whole < 2:
                return None
        return path


def _shared_tail(parts: Sequence[str], candidate: str) -> int:
    theirs = PurePosixPath(candidate).parts
    shared = 0
    while shared < min(len(parts), len(theirs)) and parts[-1 - shared] == theirs[-1 - shared]:
        shared += 1
    return shared


def _strip_location(path: str) -> str:
    """Query string, fragment and ``:line:column`` suffixes off a path or URL."""
    path = path.split("?", 1)[0].split("#", 1)[0]
    while True:
        stripped = _LINE_SUFFIX.sub("", path)
        if stripped == path:
            return path
        path = stripped


def to_repo_path(
    raw: str,
    *,
    mappings: Sequence[PathMapping] = (),
    tree: RepoTree | None = None,
    strip_prefixes: Sequence[str] = (),
) -> str:
    """Best repository-relative path for a frame or report path ('' when there is none).

    ``strip_prefixes``: folders the report says paths are relative to (a Playwright rootDir's
    project folder, the folder a JUnit report's own paths show), stripped before guessing.
    """
    original = raw.strip()
    path = original.replace("\\", "/")
    if not path or _NON_PATH.match(path):
        return ""
    for mapping in mappings:
        if path.startswith(mapping.source):
            path = mapping.target + path[len(mapping.source) :]
            break
    if match := re.match(r"^package:[\w]+/", path):  # Dart: package:shop/src/x.dart is lib/src/x.dart
        path = "lib/" + path[match.end() :]
    if path.lower().startswith("file://"):
        path = path[len("file://") :]
        path = path if path.startswith("/") else "/" + path.split("/", 1)[-1]  # file://host/x
    else:
        path = _URL_PREFIX.sub("", path)
    path = _strip_location(path)
    if not path:
        return ""
    for raw_prefix in strip_prefixes:
        prefix = raw_prefix.replace("\\", "/").rstrip("/")
        if prefix and path.startswith(prefix + "/"):
            path = path[len(prefix) + 1 :]
            break
    for workspace in _CI_WORKSPACES:
        if match := workspace.match(path):
            path = path[match.end() :]
            break
    path = _WINDOWS_DRIVE.sub("/", path)
    path = re.sub(r"^~/", "/", path)
    whole = path
    path = _collapse_dots(path)
    if tree is not None:
        resolved = tree.resolve(path, whole=whole)
        if resolved:
            return resolved
    if path.startswith("/"):
        # An absolute path from another machine: keep from the first folder that looks like
        # a source root, else the last two components.
        parts = [p for p in path.split("/") if p]
        # (``Assets`` is a Unity project's source root: its scripts live under Assets/Scripts/)
        for marker in ("Assets", "src", "app", "lib", "tests", "test", "packages", "apps", "web", "server"):
            if marker in parts[:-1]:
                path = "/".join(parts[parts.index(marker) :])
                break
        else:
            path = "/".join(parts[-2:])
    return path if is_plausible_file_path(path) else ""
