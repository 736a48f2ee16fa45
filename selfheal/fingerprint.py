"""Message normalization and fingerprints: what makes two raw items the same bug.

A fingerprint is ``sha256(exception type, normalized message, crash site)[:16]``. The crash
site is the innermost in-app frame (library frames are skipped: a ``ValueError`` raised inside
the standard library's date parsing belongs to the in-app caller), named by the last two parts
of its file path without extension plus its function, never its line number. That name is the
same for a Sentry frame (``/srv/app/billing/discounts.py``, module ``billing.discounts``), for
the file in a checkout, and for a served script (``http://localhost:3000/static/app.js`` in
the browser SDK and in a Playwright page error), so neither releases, deploy folders nor path
resolution against a checkout split a bug. When the crash frame is anonymous test code, the
normalized test title path stands in for the function, so two different tests failing in one
spec file stay two bugs (precision over recall).

Messages are compared after value normalization: ids, amounts, SKU-like codes and quoted
values become placeholders. A message that is only a quoted *name* (``KeyError: 'user_id'``)
keeps it: a missing field is the bug. A message that is only a quoted *value*
(``KeyError: 'ACME-7'``, with digits, dashes, upper case or spaces) is one dictionary lookup
seen with different data, and is normalized like any other value.

Normalization is one list of ``(pattern, replacement)`` pairs used both by polars
(:func:`normalize_message_expr`, inside :func:`fingerprint_frame`, which computes every
fingerprint, one item or a batch) and by Python's ``re`` (:func:`normalize_message`, for the
message comparisons of :mod:`selfheal.dedup` and :mod:`selfheal.signatures`). Patterns use the
common subset of both regex engines (no look-around, no back-references), and the two agree on
the texts the tests try (ASCII, accented and CJK letters, symbols). The engines' ``\\s`` and
``\\b`` are not the same on all of Unicode: U+001C-U+001F are spaces and ``²`` a word
character to Python only, so such a message can normalize differently in the two.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import polars as pl

from selfheal.models import Frame
from selfheal.records import Failure, strip_ansi

__all__ = [
    "MESSAGE_RULES",
    "error_signature",
    "failure_fingerprint",
    "file_key",
    "fingerprint_failures",
    "fingerprint_frame",
    "frame_site",
    "in_app_frames",
    "is_app_frame",
    "key_frame",
    "library_call",
    "message_key",
    "normalize_message",
    "normalize_message_expr",
    "normalize_title",
]

MAX_KEY_CHARS = 400
#: Characters of a message that normalization reads: ten times what a key keeps (placeholders
#: and collapsed spaces shorten text), and a bound on the regular expressions' work, which grows
#: faster than the text for some rules (a 64 KiB run of hex letters took 0.25 s per message).
NORMALIZED_WINDOW = 10 * MAX_KEY_CHARS

#: Ordered (name, pattern, replacement). Order matters: URLs before paths before numbers.
MESSAGE_RULES: tuple[tuple[str, str, str], ...] = (
    ("ansi", r"\x1b\[[0-9;?]*[ -/]*[@-~]", ""),
    ("url", r"(?:https?|wss?|ftp)://[^\s'\"<>)\]]+", "<url>"),
    (
        "uuid",
        r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
        "<uuid>",
    ),
    ("email", r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}", "<email>"),
    ("tmp", r"(?:/tmp|/var/folders|/private/var|[A-Za-z]:\\\\[^\s]*\\\\Temp)[^\s'\"]*", "<tmp>"),
    ("hex", r"\b0x[0-9a-fA-F]+\b|\b[0-9a-fA-F]*[0-9][0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*\b", "<hex>"),
    ("dquoted", r"\"[^\"\n]{0,200}\"", "<str>"),
    ("squoted", r"'[^'\n]{0,200}'", "<str>"),
    ("counter", r"\b\d+\s*×", "<n> ×"),
    # Codes that mix letters and digits (ACME-7, SKU-1042, ORD_2002, A17): one placeholder,
    # so "code ACME-7 not found" and "code BETA-22 not found" read the same.
    ("code", r"\b[A-Za-z]+[-_#]?[0-9][A-Za-z0-9_-]*", "<id>"),
    ("number", r"\d+(?:\.\d+)?", "<n>"),
    ("space", r"\s+", " "),
)
_COMPILED = tuple((name, re.compile(pattern), repl) for name, pattern, repl in MESSAGE_RULES)
_CALL_LOG = re.compile(r"\n\s*Call log:.*", re.DOTALL)
#: A message that is only a quoted field name (lower-case start, letters and underscores).
_ONLY_QUOTED_NAME_PATTERN = r"^(?:'[a-z_][A-Za-z_]{0,80}'|\"[a-z_][A-Za-z_]{0,80}\")$"
_ONLY_QUOTED_NAME = re.compile(_ONLY_QUOTED_NAME_PATTERN)


def _cut(text: str) -> str:
    # Playwright's call log lists retries and "N ×" counters that change between runs.
    return _CALL_LOG.sub("", text)


def normalize_message(text: str) -> str:
    """Replace the parts of an error message that vary between occurrences of one bug."""
    raw = _cut(strip_ansi(text[:NORMALIZED_WINDOW])).strip()
    out = raw
    for name, pattern, repl in _COMPILED:
        if name in {"dquoted", "squoted"} and _ONLY_QUOTED_NAME.match(raw):
            # A message that is only a quoted field name (KeyError: 'user_id') *is* the bug.
            continue
        out = pattern.sub(repl, out)
    return out.strip()[:MAX_KEY_CHARS]


def normalize_message_expr(column: str | pl.Expr) -> pl.Expr:
    """The same normalization as :func:`normalize_message`, as a polars expression."""
    expr = pl.col(column) if isinstance(column, str) else column
    expr = expr.fill_null("").str.slice(0, NORMALIZED_WINDOW).str.replace_all(MESSAGE_RULES[0][1], "")
    expr = expr.str.replace(r"(?s)\n\s*Call log:.*", "").str.strip_chars()
    only_quoted = expr.str.contains(_ONLY_QUOTED_NAME_PATTERN)
    for name, pattern, repl in MESSAGE_RULES[1:]:
        replaced = expr.str.replace_all(pattern, repl.replace("$", "$$"))
        if name in {"dquoted", "squoted"}:
            expr = pl.when(only_quoted).then(expr).otherwise(replaced)
        else:
            expr = replaced
    return expr.str.strip_chars().str.slice(0, MAX_KEY_CHARS)


def normalize_title(parts: Sequence[str]) -> str:
    """A test's title path with ids and numbers normalized (SKU-1042 ~ SKU-2077)."""
    return normalize_message(" › ".join(parts))


_ANONYMOUS = frozenset({"", "<anonymous>", "anonymous", "?", "<module>", "Object.<anonymous>"})
_URL_PREFIX = re.compile(r"^(?:[a-z][a-z0-9+.-]*://[^/]*)", re.IGNORECASE)


def frame_site(frame: Frame) -> str:
    """``billing/discounts:lookup_code``: where a frame is, stable across machines and releases.

    The last two parts of the frame's file (URL scheme and host, query and extension dropped;
    the module's dots when there is no file), then the function. Never the line number.
    """
    raw = frame.abs_path or frame.filename or frame.path
    where = file_key(raw) if raw else "/".join([p for p in frame.module.split(".") if p][-2:])
    return f"{where}:{frame.function}" if frame.function else where


def file_key(raw: str) -> str:
    """``tests/checkout`` for ``e2e/tests/checkout.spec.ts``, ``/srv/app/tests/checkout.spec.ts``
    or ``http://127.0.0.1:4173/tests/checkout.spec.ts``: the last two parts, no extension."""
    cleaned = _URL_PREFIX.sub("", raw.replace("\\", "/")).split("?", 1)[0].split("#", 1)[0]
    parts = [p for p in cleaned.split("/") if p and p != "."]
    if parts:
        parts[-1] = parts[-1].split(".", 1)[0] or parts[-1]
    return "/".join(parts[-2:])


#: A script copied into the app's static files (``static/vendor/chart.js``): library code,
#: though served from the app's own origin (so a page error's frames call it in-app).
_VENDORED_SCRIPT = re.compile(
    r"(?:^|/)(?:vendor|vendors|third[_-]party|bower_components)/[^?#]*\.[cm]?js(?:[?#]|$)"
)


def is_app_frame(frame: Frame) -> bool:
    """In-app, and not a vendored script."""
    return frame.in_app and not _VENDORED_SCRIPT.search(frame.path or frame.filename or frame.abs_path)


def in_app_frames(failure: Failure) -> list[Frame]:
    """The in-app frames, crash first, without a bare error location repeating the next frame.

    All frames when none is in-app (the library code is then the only place known).
    """
    frames = [f for f in failure.frames if is_app_frame(f)] or list(failure.frames)
    if len(frames) > 1 and frames[0].function in _ANONYMOUS:
        first, second = frames[0], frames[1]
        if (first.path or first.filename) == (
            second.path or second.filename
        ) and first.lineno == second.lineno:
            frames = frames[1:]  # a bare error location repeating the stack's top frame
    return frames


_TRACKERS = frozenset({"sentry", "bugsink"})


def library_call(failure: Failure) -> Frame | None:
    """The library frame the innermost in-app frame called, when the error was raised inside
    library code (``json.loads`` under ``parse_feed_line``); None otherwise."""
    if failure.source not in _TRACKERS or not failure.frames or failure.frames[0].in_app:
        return None
    for index, frame in enumerate(failure.frames):
        if frame.in_app:
            return failure.frames[index - 1]
    return None


def message_key(failure: Failure) -> str:
    """The text whose normalized form goes into the fingerprint.

    An error raised inside library code under an in-app frame (``JSONDecodeError`` from
    ``json.loads``, ``ValueError`` from ``strptime``) describes the bad input, not the code:
    "Expecting value" and "Expecting ',' delimiter" are one unguarded parse. Its message is left
    out; the library call it came through is in :func:`key_frame` instead.
    """
    if library_call(failure) is not None:
        return ""
    return failure.message or failure.title


def key_frame(failure: Failure) -> str:
    """The frame part of the fingerprint: the crash site, or the best stand-in."""
    frames = in_app_frames(failure)
    if frames:
        top = frames[0]
        if top.function not in _ANONYMOUS:
            library = library_call(failure)
            return f"{frame_site(top)} > {frame_site(library)}" if library else frame_site(top)
        # Test code: the file by its last two parts, so a checkout's folder prefix (e2e/) or a
        # report that spells the path differently (JSON and JUnit of one run) changes nothing.
        where = file_key(top.path or top.filename) if (top.path or top.filename) else top.module
        if failure.test_path:
            return f"{where}:{normalize_title(failure.test_path)}"
        return where
    if failure.test_path:
        return f"{file_key(failure.file)}:{normalize_title(failure.test_path)}"
    # No stack at all (Sentry log-message issues): the logger or culprit locates the code.
    return failure.logger or failure.culprit or failure.file


def error_signature(exception_type: str, message: str) -> tuple[str, str]:
    """``(type, normalized message)``: what an error says, whatever values it carried."""
    return exception_type, normalize_message(message)


def fingerprint_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Add a ``fingerprint`` column to a frame with ``exception_type``, ``message``, ``frame_key``.

    The one fingerprint implementation: ``build_tasks``, the benchmark, the upgrade of the
    original pipeline's tasks and :func:`failure_fingerprint` all hash here. Normalization
    runs as polars expressions over the whole column; SHA-256 runs once per distinct key
    (stable across polars versions, unlike ``Expr.hash``), so the cost grows with the number
    of distinct bugs, not with the number of raw items.
    """
    keys = frame.select(
        pl.concat_str(
            [
                pl.col("exception_type").fill_null(""),
                normalize_message_expr("message"),
                pl.col("frame_key").fill_null(""),
            ],
            separator="\x1f",
        ).alias("key")
    )["key"]
    distinct = keys.unique()
    digests = [hashlib.sha256(k.encode()).hexdigest()[:16] for k in distinct.to_list()]
    return frame.with_columns(fingerprint=keys.replace_strict(distinct, digests, return_dtype=pl.String))


def fingerprint_failures(failures: Sequence[Failure]) -> list[str]:
    """One fingerprint per raw item (same order), through :func:`fingerprint_frame`."""
    if not failures:
        return []
    frame = pl.DataFrame(
        {
            "exception_type": [f.exception_type for f in failures],
            "message": [message_key(f) for f in failures],
            "frame_key": [key_frame(f) for f in failures],
        },
        schema={"exception_type": pl.String, "message": pl.String, "frame_key": pl.String},
    )
    return list(fingerprint_frame(frame)["fingerprint"].to_list())


def failure_fingerprint(failure: Failure) -> str:
    """The fingerprint of one raw item (the same code path as a whole batch)."""
    return fingerprint_failures([failure])[0]
