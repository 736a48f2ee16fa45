"""Message normalization and fingerprints: what makes two raw items the same bug.

A fingerprint is ``sha256(exception type, normalized message, key frame)[:16]`` where the key
frame is the top in-app frame's path and function (never its line number). When that frame is
anonymous test code, the normalized test title path stands in for the function, so two
different tests failing the same way in one spec file stay two bugs (precision over recall).

Normalization is one list of ``(pattern, replacement)`` pairs used both by Python's ``re``
(:func:`normalize_message`) and by polars (:func:`normalize_message_expr`), so the benchmark's
vectorized path and the per-item path cannot drift apart. Patterns use the common subset of
both regex engines (no look-around, no back-references).
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
    "failure_fingerprint",
    "fingerprint_of",
    "key_frame",
    "normalize_message",
    "normalize_message_expr",
    "normalize_title",
]

MAX_KEY_CHARS = 400

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
    ("number", r"\d+(?:\.\d+)?", "<n>"),
    ("space", r"\s+", " "),
)
_COMPILED = tuple((name, re.compile(pattern), repl) for name, pattern, repl in MESSAGE_RULES)
_CALL_LOG = re.compile(r"\n\s*Call log:.*", re.DOTALL)
_ONLY_QUOTED_PATTERN = r"^(?:'[^'\n]{0,200}'|\"[^\"\n]{0,200}\")$"
_ONLY_QUOTED = re.compile(_ONLY_QUOTED_PATTERN)


def _cut(text: str) -> str:
    # Playwright's call log lists retries and "N ×" counters that change between runs.
    return _CALL_LOG.sub("", text)


def normalize_message(text: str) -> str:
    """Replace the parts of an error message that vary between occurrences of one bug."""
    raw = _cut(strip_ansi(text)).strip()
    out = raw
    for name, pattern, repl in _COMPILED:
        if name in {"dquoted", "squoted"} and _ONLY_QUOTED.match(raw):
            # A message that is only a quoted value (KeyError: 'user_id') *is* the discriminator.
            continue
        out = pattern.sub(repl, out)
    return out.strip()[:MAX_KEY_CHARS]


def normalize_message_expr(column: str | pl.Expr) -> pl.Expr:
    """The same normalization as :func:`normalize_message`, as a polars expression."""
    expr = pl.col(column) if isinstance(column, str) else column
    expr = expr.fill_null("").str.replace_all(MESSAGE_RULES[0][1], "")
    expr = expr.str.replace(r"(?s)\n\s*Call log:.*", "").str.strip_chars()
    only_quoted = expr.str.contains(_ONLY_QUOTED_PATTERN)
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


def _frame_id(frame: Frame) -> str:
    where = frame.path or frame.module or frame.filename or frame.abs_path
    return f"{where}:{frame.function}" if frame.function else where


def key_frame(failure: Failure) -> str:
    """The frame part of the fingerprint: top in-app frame, or the best stand-in."""
    frames = [f for f in failure.frames if f.in_app] or list(failure.frames)
    anonymous = {"", "<anonymous>", "anonymous", "?", "<module>", "Object.<anonymous>"}
    if len(frames) > 1 and frames[0].function in anonymous:
        first, second = frames[0], frames[1]
        if (first.path or first.filename) == (
            second.path or second.filename
        ) and first.lineno == second.lineno:
            frames = frames[1:]  # a bare error location repeating the stack's top frame
    if frames:
        top = frames[0]
        if top.function not in anonymous:
            return _frame_id(top)
        where = top.path or top.module or top.filename
        if failure.test_path:
            return f"{where}:{normalize_title(failure.test_path)}"
        return where
    if failure.test_path:
        return f"{failure.file}:{normalize_title(failure.test_path)}"
    # No stack at all (Sentry log-message issues): the logger or culprit locates the code.
    return failure.logger or failure.culprit or failure.file


def fingerprint_of(exception_type: str, normalized_message: str, frame_key: str) -> str:
    digest = hashlib.sha256(f"{exception_type}\x1f{normalized_message}\x1f{frame_key}".encode())
    return digest.hexdigest()[:16]


def failure_fingerprint(failure: Failure) -> str:
    """The fingerprint of one raw item."""
    return fingerprint_of(
        failure.exception_type,
        normalize_message(failure.message or failure.title),
        key_frame(failure),
    )
