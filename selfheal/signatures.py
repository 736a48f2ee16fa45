"""Error signatures found again in other texts: the link between a test and a production error.

An end-to-end test shows a production error indirectly: the UI displays the server's error
text (``Received: "Internal error: KeyError: 'BETA-22'"``), a page error carries the browser's
``TypeError`` with its script frames, a response with status 500 carries the exception. A
:class:`Signature` is what an error-tracker cluster says (exception type, normalized first
line of the message, crash functions); a :class:`SignatureIndex` finds those signatures in any
text in time linear in the text: every ``Word:`` in the text is looked up by exception type,
and only the words that are a known type are compared, by normalized message (the longest
reading of the text after the type that normalizes to a known message wins). When two
clusters say the same thing, the one whose crash function the text (or its frames) names, then
the one whose raw message the text repeats, is meant; when that still leaves two, the text
names none of them (precision first).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise

from selfheal.fingerprint import normalize_message

__all__ = ["Mention", "Signature", "SignatureIndex", "first_line"]

#: ``KeyError:`` / ``billing.errors.DiscountError:``: a word followed by a colon; or the repr
#: form ``KeyError('BETA-22')`` (a quoted argument in brackets).
_TYPE_MENTION = re.compile(r"(?<![\w])(?:[A-Za-z_]\w*\.)*([A-Za-z_]\w*)(?::[ \t]*|\((?=['\"]))")
_REPR_ARGUMENT = re.compile(r"""^('[^'\n]{0,300}'|"[^"\n]{0,300}")\)""")
#: Characters that may close the quoted or bracketed text an error is shown in.
_CLOSERS = frozenset("\"'`)]},;")
MAX_READ_CHARS = 400
MAX_CUTS = 16
MAX_TEXT_CHARS = 200_000
#: A message shown without its type is looked for only when it is this many words or longer.
MIN_UNTYPED_WORDS = 4
_PLAIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
#: A word of the text, without the quotes or brackets around it.
_TOKEN = re.compile(r"[\"'`(\[{+*-]*([A-Za-z][A-Za-z'’-]*)")
#: ``Word:`` right before a position (then the typed search reads it).
_AFTER_TYPE = re.compile(r"\w:[ \t]*$")
#: At most this many look-alike signatures are offered for one mention (bounds the candidates).
MAX_FITTING = 8


def first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


@dataclass(frozen=True, slots=True)
class Signature:
    """What one error-tracker cluster says."""

    key: str
    """The cluster's fingerprint."""
    exception_type: str
    message: str
    """Normalized first line of the message."""
    raw_messages: frozenset[str]
    """Raw first lines, as the issues showed them."""
    functions: frozenset[str]
    """Crash functions (innermost in-app frame), when named."""
    site: str = ""
    """Where it crashed, for people: ``billing/discounts.py:lookup_code``."""
    source: str = "sentry"

    def describe(self) -> str:
        raw = min(self.raw_messages, key=len) if self.raw_messages else self.message
        return (f"{self.exception_type}: {raw}" if self.exception_type else raw)[:160]


@dataclass(frozen=True, slots=True)
class Mention:
    """A signature found in a text."""

    signature: Signature
    text: str
    """The words of the text that carry it (``KeyError: 'BETA-22'``)."""
    same_function: bool
    """The text or its frames also name the signature's crash function."""
    start: int = 0
    """Where in the text the mention starts (0: the text *is* that error)."""


def _readings_at(text: str, match: re.Match[str]) -> list[str]:
    """The readings of the message after one type mention, longest first."""
    rest = text[match.end() : match.end() + MAX_READ_CHARS].split("\n", 1)[0]
    if match.group(0).endswith("("):
        argument = _REPR_ARGUMENT.match(rest)
        # KeyError('BETA-22') says KeyError: 'BETA-22'; ValueError('bad code') says bad code.
        return [argument.group(1), argument.group(1)[1:-1]] if argument else []
    return _readings(rest)


def _readings(rest: str) -> list[str]:
    """Ways to read the text after a type: whole line, or cut where a quote or bracket closes.

    Text inside a JSON string (a response body) has its quotes escaped: read it unescaped too.
    """
    rest = rest.rstrip()
    if '\\"' in rest:
        return sorted(set(_cuts(rest)) | set(_cuts(rest.replace('\\"', '"'))), key=len, reverse=True)
    return _cuts(rest)


def _cuts(rest: str) -> list[str]:
    out = {rest}
    cuts = 0
    for index, char in enumerate(rest):
        if char in _CLOSERS and index > 0:
            out.add(rest[:index].rstrip())
            out.add(rest[: index + 1])
            cuts += 1
            if cuts >= MAX_CUTS:
                break
    return sorted((r for r in out if r), key=len, reverse=True)


_WORD = re.compile(r"[A-Za-z_$][\w$]*")


def _bare(function: str) -> str:
    """``Cart.render`` → ``render``; ``HTMLButtonElement.<anonymous>`` stays whole."""
    tail = function.rsplit(".", 1)[-1]
    return tail if _WORD.fullmatch(tail) else function


@dataclass(frozen=True, slots=True)
class _Bucket:
    """The signatures that say one thing, with lookups by crash function and by raw message."""

    signatures: tuple[Signature, ...]
    by_function: dict[str, tuple[Signature, ...]]
    by_raw: dict[str, tuple[Signature, ...]]

    @classmethod
    def of(cls, signatures: Sequence[Signature]) -> _Bucket:
        by_function: dict[str, list[Signature]] = defaultdict(list)
        by_raw: dict[str, list[Signature]] = defaultdict(list)
        for signature in signatures:
            for name in {n for f in signature.functions for n in (f, _bare(f))}:
                by_function[name].append(signature)
            for raw in signature.raw_messages:
                by_raw[raw].append(signature)
        return cls(
            tuple(signatures),
            {k: tuple(dict.fromkeys(v)) for k, v in by_function.items()},
            {k: tuple(dict.fromkeys(v)) for k, v in by_raw.items()},
        )


class SignatureIndex:
    """Signatures by exception type and normalized message, searched in texts."""

    __slots__ = ("_anchors", "_buckets", "_count", "_types")

    def __init__(self, signatures: Iterable[Signature]) -> None:
        grouped: dict[tuple[str, str], list[Signature]] = defaultdict(list)
        for signature in signatures:
            if signature.message:  # an error without a type (a log message) is found untyped only
                grouped[(signature.exception_type, signature.message)].append(signature)
        self._buckets = {key: _Bucket.of(group) for key, group in grouped.items()}
        self._types = frozenset(t for t, _ in grouped if t)
        self._count = sum(len(g) for g in grouped.values())
        #: first two words → distinctive messages starting with them, for text that shows a
        #: message without its type (a page error's ``e.message`` in a list of errors)
        self._anchors: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
        for key in grouped:
            words = key[1].split()
            if len(words) >= MIN_UNTYPED_WORDS and all(_PLAIN_WORD.fullmatch(w) for w in words[:2]):
                self._anchors[(words[0], words[1])].append(key)

    def __len__(self) -> int:
        return self._count

    def search_all(self, text: str) -> list[Mention]:
        """Every signature that fits a mention in the text, even when several fit one mention
        equally (for candidates a person decides on, not for automatic links)."""
        text = text[:MAX_TEXT_CHARS]
        found: dict[str, Mention] = {}
        for match in _TYPE_MENTION.finditer(text):
            exception_type = match.group(1)
            if exception_type not in self._types:
                continue
            for reading in _readings_at(text, match):
                bucket = self._buckets.get((exception_type, normalize_message(reading)))
                if bucket is None:
                    continue
                for signature in bucket.signatures[:MAX_FITTING]:
                    found.setdefault(
                        signature.key,
                        Mention(signature, _said(exception_type, reading), False, match.start()),
                    )
                break
        for start, exception_type, readings in self._untyped(text):
            for reading in readings:
                bucket = self._buckets.get((exception_type, normalize_message(reading)))
                if bucket is not None:
                    for signature in bucket.signatures[:MAX_FITTING]:
                        found.setdefault(
                            signature.key, Mention(signature, _said(exception_type, reading), False, start)
                        )
                    break
        return list(found.values())

    def search(self, text: str, frame_functions: Collection[str] = ()) -> list[Mention]:
        """Every signature the text carries, at most once each, in the order they appear."""
        text = text[:MAX_TEXT_CHARS]
        found: dict[str, Mention] = {}
        names: frozenset[str] | None = None
        for match in _TYPE_MENTION.finditer(text):
            exception_type = match.group(1)
            if exception_type not in self._types:
                continue
            if names is None:  # the words of the text and its frames, once per text
                names = frozenset(_WORD.findall(text)) | {n for f in frame_functions for n in (f, _bare(f))}
            mention = self._resolve(exception_type, _readings_at(text, match), names)
            if mention is not None and mention.signature.key not in found:
                found[mention.signature.key] = replace(mention, start=match.start())
        for start, exception_type, readings in self._untyped(text):
            if names is None:
                names = frozenset(_WORD.findall(text)) | {n for f in frame_functions for n in (f, _bare(f))}
            mention = self._resolve(exception_type, readings, names)
            if mention is not None and mention.signature.key not in found:
                found[mention.signature.key] = replace(mention, start=start)
        return list(found.values())

    def _untyped(self, text: str) -> Iterator[tuple[int, str, list[str]]]:
        """``(start, exception type, readings)`` where the text shows a known message without
        its type; text right after ``Word:`` is left to the typed search."""
        if not self._anchors:
            return
        tokens = list(_TOKEN.finditer(text))
        for first, second in pairwise(tokens):
            keys = self._anchors.get((first.group(1), second.group(1)))
            if not keys or text.count("\n", first.start(1), second.start(1)):
                continue
            start = first.start(1)
            if _AFTER_TYPE.search(text, max(0, start - 120), start):
                continue
            rest = text[start : start + MAX_READ_CHARS].split("\n", 1)[0]
            for exception_type in dict.fromkeys(t for t, _ in keys):
                yield start, exception_type, _readings(rest)

    def _resolve(self, exception_type: str, readings: Sequence[str], names: frozenset[str]) -> Mention | None:
        for reading in readings:
            bucket = self._buckets.get((exception_type, normalize_message(reading)))
            if bucket is None:
                continue
            return _choose(bucket, _said(exception_type, reading), reading, names)
        return None


def _said(exception_type: str, reading: str) -> str:
    return f"{exception_type}: {reading}" if exception_type else reading


def _choose(bucket: _Bucket, shown: str, reading: str, names: frozenset[str]) -> Mention | None:
    """The one signature the text means, or None when it fits several equally."""
    if len(names) < len(bucket.by_function):
        hits = [s for name in names for s in bucket.by_function.get(name, ())]
    else:
        hits = [s for name, sigs in bucket.by_function.items() if name in names for s in sigs]
    named = list(dict.fromkeys(hits))
    if len(bucket.signatures) == 1:
        return Mention(bucket.signatures[0], shown, bool(named))
    if len(named) == 1:
        return Mention(named[0], shown, True)
    repeated = [s for s in bucket.by_raw.get(reading, ()) if not named or s in named]
    if len(repeated) == 1:
        return Mention(repeated[0], shown, bool(named))
    return None  # two clusters say the same thing and nothing tells them apart
