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

__all__ = ["CodeOwners", "EventRuntime", "Ownership", "area_from_runtime", "assign_owner", "guess_area"]

_CODEOWNERS_LOCATIONS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
_FRONTEND_EXT = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".vue", ".svelte", ".css", ".html")
_INFRA_HINTS = re.compile(r"(?:^|/)(?:infra|terraform|deploy|k8s|helm|docker|\.github)/|Dockerfile")


@dataclass(frozen=True, slots=True)
class EventRuntime:
    """What an error event says about where it ran (Sentry's ``platform``, ``sdk.name`` and
    ``contexts``), the first thing the area is decided from."""

    platform: str = ""
    sdk_name: str = ""
    os_name: str = ""
    runtime_name: str = ""
    device_family: str = ""
    has_browser: bool = False
    event_type: str = ""
    """``error`` / ``default`` / ``csp`` / ``hpkp`` / ``expectct`` …"""
    mobile_stack: bool = False
    """The stack holds frames only a mobile runtime has (Android framework, ART, Unity engine)."""


#: SDK names (``sentry.<language>.<integration>``) whose events come from a mobile app.
_MOBILE_SDK = re.compile(
    r"^sentry\.(?:cocoa|swift|java\.android|kotlin\.android|native\.android|android|javascript\.react-?native"
    r"|react-native|dart\.flutter|flutter|unity|dotnet\.unity|javascript\.cordova|cordova"
    r"|javascript\.capacitor|capacitor|javascript\.ionic|xamarin|dotnet\.xamarin|dotnet\.maui|maui"
    r"|kotlin\.multiplatform|kmp)\b"
)
#: Edge runtimes: Cloudflare Workers, Vercel Edge, Deno Deploy, Fastly Compute, Lambda@Edge.
_EDGE_SDK = re.compile(r"^sentry\.javascript\.(?:cloudflare|vercel-edge|nextjs\.edge|wintercg)\b")
_EDGE_RUNTIMES = ("cloudflare", "workerd", "vercel-edge", "edge", "edge-light", "fastly")
#: Browser SDKs, and the web-app frameworks whose server side is still the web app's code
#: (a Next.js page rendered on the server is fixed in the front end's repository folder).
_FRONTEND_SDK = re.compile(
    r"^sentry\.javascript\.(?:browser|react|vue|angular(?:-ivy)?|svelte|sveltekit|ember|gatsby|solid"
    r"|solidstart|qwik|electron|wasm|replay|nextjs|remix|react-router|nuxt|astro|tanstackstart)\b"
)
_BACKEND_SDK = re.compile(
    r"^sentry\.(?:python|ruby|php|go|elixir|rust|perl|java|kotlin|dotnet|aspnetcore|native|clojure"
    r"|javascript\.(?:node|bun|deno|aws-serverless|google-cloud-serverless|nestjs|koa|express|hapi"
    r"|fastify|connect))\b"
)
_MOBILE_OS = ("ios", "ipados", "android", "tvos", "watchos", "visionos")
_MOBILE_PLATFORMS = {"cocoa", "objc", "swift", "react-native", "flutter", "cordova", "capacitor", "unity"}
_BACKEND_PLATFORMS = {
    "python",
    "node",
    "ruby",
    "php",
    "go",
    "elixir",
    "rust",
    "perl",
    "csharp",
    "java",
    "native",
    "c",
    "cpp",
    "dart",
    "groovy",
    "clojure",
    "kotlin",
    "scala",
}
_SECURITY_REPORTS = {"csp", "hpkp", "expectct", "expectstaple"}


def area_from_runtime(runtime: EventRuntime) -> str:
    """The area an event's runtime names ('' when it names none), decided from the event type,
    the SDK name, then the platform and the contexts (os, device, runtime, browser).

    Browser security reports (CSP, HPKP, Expect-CT) are sent by the browser about the pages:
    ``frontend``. A mobile SDK or OS is ``mobile`` whatever the language; Workers-style
    runtimes are ``edge``; server SDKs and languages are ``backend``.
    """
    if runtime.event_type in _SECURITY_REPORTS:
        return "frontend"
    # Older and some current SDKs name themselves with a dash (``sentry-cordova``, ``sentry-cocoa``,
    # ``raven-python``): the same SDKs as ``sentry.cordova`` …
    sdk = re.sub(r"^(?:sentry|raven)-", "sentry.", runtime.sdk_name.lower())
    os_name = runtime.os_name.lower().replace(" ", "")
    runtime_name = runtime.runtime_name.lower()
    platform = runtime.platform.lower()
    if _MOBILE_SDK.match(sdk):
        return "mobile"
    if _EDGE_SDK.match(sdk) or runtime_name in _EDGE_RUNTIMES:
        return "edge"
    if os_name.startswith(_MOBILE_OS):
        return "mobile"  # an app on a phone: Java/Kotlin, JS (hybrid, React Native), native (NDK), …
    if platform in _MOBILE_PLATFORMS:
        return "frontend" if os_name.startswith("macos") else "mobile"
    if runtime.mobile_stack and not os_name and not runtime.has_browser:
        return "mobile"  # no os context, but the stack runs on Android or in Unity
    if _FRONTEND_SDK.match(sdk):
        return "frontend"
    if _BACKEND_SDK.match(sdk) or platform in _BACKEND_PLATFORMS:
        return "backend"
    if platform == "javascript" or sdk.startswith("sentry.javascript."):
        if runtime_name in {"node", "bun", "deno"}:
            return "backend"
        return "frontend" if runtime.has_browser or platform == "javascript" else ""
    return ""


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


def guess_area(
    files: Sequence[str], *, platform: str = "", sources: Iterable[str] = (), runtime_area: str = ""
) -> str:
    """The area: what the event's runtime says (``runtime_area``, see :func:`area_from_runtime`)
    first; else infra / frontend / backend from the first file, the platform and sources."""
    if runtime_area:
        return runtime_area
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
    runtime_area: str = "",
) -> Ownership:
    """Owner and area for a task whose suggested files are ``files`` (most relevant first)."""
    sources = tuple(sources)
    area = guess_area(files, platform=platform, sources=sources, runtime_area=runtime_area)
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
