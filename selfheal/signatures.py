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
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from selfheal.fingerprint import normalize_message

__all__ = ["Mention", "Signature", "SignatureIndex", "first_line"]

#: ``KeyError:`` / ``billing.errors.DiscountError:``: a word followed by a colon.
_TYPE_MENTION = re.compile(r"(?<![\w])(?:[A-Za-z_]\w*\.)*([A-Za-z_]\w*):[ \t]*")
#: Characters that may close the quoted or bracketed text an error is shown in.
_CLOSERS = frozenset("\"'`)]},;")
MAX_READ_CHARS = 400
MAX_CUTS = 16
MAX_TEXT_CHARS = 200_000


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
        return f"{self.exception_type}: {raw}"[:160]


@dataclass(frozen=True, slots=True)
class Mention:
    """A signature found in a text."""

    signature: Signature
    text: str
    """The words of the text that carry it (``KeyError: 'BETA-22'``)."""
    same_function: bool
    """The text or its frames also name the signature's crash function."""


def _readings(rest: str) -> list[str]:
    """Ways to read the text after a type: whole line, or cut where a quote or bracket closes."""
    rest = rest.rstrip()
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


def _names_function(text: str, functions: Collection[str], frame_functions: Collection[str]) -> bool:
    for function in functions:
        bare = function.rsplit(".", 1)[-1]
        if function in frame_functions or bare in frame_functions:
            return True
        if bare and re.search(rf"(?<![\w$]){re.escape(bare)}(?![\w$])", text):
            return True
    return False


class SignatureIndex:
    """Signatures by exception type and normalized message, searched in texts."""

    __slots__ = ("_by_key", "_types")

    def __init__(self, signatures: Iterable[Signature]) -> None:
        self._by_key: dict[tuple[str, str], list[Signature]] = defaultdict(list)
        for signature in signatures:
            if signature.exception_type and signature.message:
                self._by_key[(signature.exception_type, signature.message)].append(signature)
        self._types = frozenset(t for t, _ in self._by_key)

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_key.values())

    def search(self, text: str, frame_functions: Collection[str] = ()) -> list[Mention]:
        """Every signature the text carries, at most once each, in the order they appear."""
        text = text[:MAX_TEXT_CHARS]
        found: dict[str, Mention] = {}
        for match in _TYPE_MENTION.finditer(text):
            exception_type = match.group(1)
            if exception_type not in self._types:
                continue
            rest = text[match.end() : match.end() + MAX_READ_CHARS].split("\n", 1)[0]
            mention = self._resolve(exception_type, rest, text, frame_functions)
            if mention is not None and mention.signature.key not in found:
                found[mention.signature.key] = mention
        return list(found.values())

    def _resolve(
        self, exception_type: str, rest: str, text: str, frame_functions: Collection[str]
    ) -> Mention | None:
        for reading in _readings(rest):
            candidates = self._by_key.get((exception_type, normalize_message(reading)))
            if not candidates:
                continue
            return _choose(candidates, f"{exception_type}: {reading}", reading, text, frame_functions)
        return None


def _choose(
    candidates: Sequence[Signature], shown: str, reading: str, text: str, frame_functions: Collection[str]
) -> Mention | None:
    named = [c for c in candidates if _names_function(text, c.functions, frame_functions)]
    if len(candidates) == 1:
        return Mention(candidates[0], shown, bool(named))
    if len(named) == 1:
        return Mention(named[0], shown, True)
    pool = named or list(candidates)
    repeated = [c for c in pool if reading in c.raw_messages]
    if len(repeated) == 1:
        return Mention(repeated[0], shown, bool(named))
    return None  # two clusters say the same thing and nothing tells them apart
