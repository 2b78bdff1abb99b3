"""Find a unit by part of its name, with or without diacritics: "kien thuy", "Kiến Thụy", "thuy",
"dong hai" (Đông Hải). Matched on the server against the stored units, within the reader's access
scope (``Request.scope`` / ``request.current_scope()``); the shell's search box and the /search
page both ask here.

Matching: both sides are normalised (lower case, diacritics stripped, đ → d, runs of spaces and
punctuation to one space); every word typed must start a word of the name (or the code starts with
what was typed). Ranked: the whole name, then names that begin with it, then higher levels, then
units valid today before former ones, then by name.
"""
from __future__ import annotations

import re
import unicodedata

import pandas as pd

from . import figures, hierarchy
from .unitkeys import month_of

MAX_QUERY = 80
LIMIT = 10
_SEPARATORS = re.compile(r"[\W_]+", re.UNICODE)


def normalise(text: str) -> str:
    """'Khu vực Thủy Nguyên' -> 'khu vuc thuy nguyen'; 'Đồ Sơn' -> 'do son'."""
    text = unicodedata.normalize("NFD", str(text or "")).replace("đ", "d").replace("Đ", "D")
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn").lower()
    return _SEPARATORS.sub(" ", text).strip()


def _matches(words: list[str], name_words: list[str]) -> bool:
    """Every typed word starts some word of the name, each used once, in any order."""
    free = list(name_words)
    for word in words:
        hit = next((i for i, w in enumerate(free) if w.startswith(word)), None)
        if hit is None:
            return False
        free.pop(hit)
    return True


def find(query: str | None, scope=None, limit: int = LIMIT) -> list[dict]:
    """Units whose name matches `query` and that `scope` allows (None: every unit), best first:
    [{code, name, level, parent_name, current, until}] (`code` is the unit's key: an old unit's
    ``31150@2025-06``; `until` its last month, None while valid)."""
    wanted = normalise((query or "")[:MAX_QUERY])
    if not wanted:
        return []
    words = wanted.split()
    units = figures.units()
    names = dict(zip(units["code"], units["name"]))
    depth = {lv: i for i, lv in enumerate(hierarchy.all_levels())}
    found = []
    for code, name, level, parent, valid_to in zip(units["code"], units["name"], units["level"],
                                                   units["parent_code"], units["valid_to"]):
        code = str(code)
        norm = normalise(name)
        if not (_matches(words, norm.split()) or code.lower().startswith(wanted.replace(" ", ""))):
            continue
        if scope is not None and not scope.allows(code):
            continue
        current = valid_to is None or valid_to == "" or bool(pd.isna(valid_to))
        rank = (0 if norm == wanted else 1 if norm.startswith(wanted) else 2, depth.get(level, 99),
                0 if current else 1, norm, code)
        found.append((rank, {"code": code, "name": str(name), "level": level, "current": current,
                             "until": None if current else month_of(valid_to),
                             "parent_name": names.get(parent) if isinstance(parent, str) else None}))
    found.sort(key=lambda item: item[0])
    return [item for _rank, item in found[:limit]]
