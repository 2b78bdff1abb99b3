"""Unit keys across the 2025 reform: a unit is a code over a period of validity.

Codes were reused: old commune 31150 (to 2025-06-30) and new commune 31150 (from 2025-07-01)
are different units, and new Hải Phòng is 31 like old Hải Phòng. So the key every table uses
(``units.code``) is

* the official code, for a unit still valid (``31150``);
* ``<code>@<YYYY-MM>``, the last month it was valid, for a unit that has ended (``31150@2025-06``).

A key is self-describing: its official code is the part before ``@``. What people write — a
plain code, or the explicit ``<code>@<YYYY-MM>`` naming the unit of that code valid in that
month (any month of its validity, not only the last) — is resolved by :class:`Resolver`:
explicitly, at the month a row is about (a value's month, a target's deadline, a link's date),
or else today. One rule, used by the importer, the request reader and the pages.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Iterable

SEPARATOR = "@"
_EXPLICIT = re.compile(r"^(?P<code>[^@\s]+)@(?P<month>\d{4}-(0[1-9]|1[0-2]))$")


def official(key: str) -> str:
    """The code as officials write it: ``31150@2025-06`` → ``31150``."""
    return str(key).split(SEPARATOR, 1)[0]


def explicit(text: str) -> tuple[str, str] | None:
    """``('31150', '2025-06')`` for ``31150@2025-06``; None for a plain code."""
    m = _EXPLICIT.match(str(text))
    return (m["code"], m["month"]) if m else None


def month_of(value) -> str | None:
    """'YYYY-MM' of a date, a 'YYYY-MM[-DD]' text, or None."""
    if value is None or value != value:  # NaN
        return None
    if hasattr(value, "year") and hasattr(value, "month"):
        return f"{value.year:04d}-{value.month:02d}"
    text = str(value)
    return text[:7] if len(text) >= 7 else None


def ended_key(code: str, valid_to) -> str:
    """The key of a unit of `code` that was valid until `valid_to`."""
    return f"{official(code)}{SEPARATOR}{month_of(valid_to)}"


def this_month() -> str:
    today = date.today()
    return f"{today.year:04d}-{today.month:02d}"


@dataclass(frozen=True)
class Span:
    """One unit's key with its validity as months (None: open)."""
    key: str
    valid_from: str | None
    valid_to: str | None

    def holds(self, month: str) -> bool:
        return (self.valid_from is None or self.valid_from <= month) and (self.valid_to is None or month <= self.valid_to)


class Resolver:
    """Keys by official code, with their validity, for resolving what a file or a URL names.

    ``spans`` are (key, valid_from, valid_to) with months or dates; build once per import or per
    data version, never per row."""

    def __init__(self, spans: Iterable[tuple[str, object, object]]):
        self.by_key: dict[str, Span] = {}
        self.by_code: dict[str, list[Span]] = {}
        for key, vf, vt in spans:
            span = Span(str(key), month_of(vf), month_of(vt))
            self.by_key[span.key] = span
            self.by_code.setdefault(official(span.key), []).append(span)
        for spans_of_code in self.by_code.values():
            spans_of_code.sort(key=lambda s: (s.valid_from or "", s.valid_to or "9999-99"))

    def __contains__(self, key: str) -> bool:
        return key in self.by_key

    def candidates(self, code: str) -> list[str]:
        """Every key of an official code, oldest first."""
        return [s.key for s in self.by_code.get(official(code), [])]

    def resolve(self, text: str, month: str | None = None) -> str | None:
        """The key `text` names at `month` ('YYYY-MM'; None: today).

        * a stored key is itself (``31150@2025-06``; a plain code that is a key, only when no
          other unit shares it or it holds at `month`);
        * ``<code>@<YYYY-MM>`` is the unit of that code valid in that month;
        * a plain code is the unit of that code valid at `month`; if none is, the only unit of that
          code (its validity is the caller's to check, so that it can say why), else None.
        """
        text = str(text).strip()
        if not text:
            return None
        pair = explicit(text)
        if pair is not None:
            if text in self.by_key:
                return text
            code, at = pair
            held = [s.key for s in self.by_code.get(code, []) if s.holds(at)]
            return held[0] if len(held) == 1 else None
        spans = self.by_code.get(text, [])
        if not spans:
            return text if text in self.by_key else None
        if len(spans) == 1:
            return spans[0].key
        at = month or this_month()
        held = [s.key for s in spans if s.holds(at)]
        if len(held) == 1:
            return held[0]
        if month is None:
            # Nothing of that code is valid today: the most recent one.
            return max(spans, key=lambda s: s.valid_to or "9999-99").key
        return None

    def span(self, key: str) -> Span | None:
        return self.by_key.get(key)
