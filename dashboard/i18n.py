"""One translation mechanism for every UI string: ``t(key, lang, **values)``.

Strings live in ``dashboard/locales/*.yaml`` (one file per area, so pages do not step on
each other), each key with a ``vi`` and an ``en`` text. Vietnamese is the default; a key
missing in English falls back to Vietnamese, and an unknown key shows itself so it is
noticed rather than crashing a wall screen.
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache
from importlib import resources

import yaml

LANGS = ("vi", "en")
DEFAULT_LANG = "vi"


@lru_cache(maxsize=1)
def catalog() -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {}
    folder = resources.files("dashboard").joinpath("locales")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        data = yaml.safe_load(entry.read_text(encoding="utf-8")) or {}
        for key, texts in data.items():
            if key in merged:
                raise ValueError(f"translation key {key!r} defined twice (second in {entry.name})")
            merged[key] = {lang: unicodedata.normalize("NFC", str(text)) for lang, text in texts.items()}
    return merged


def lang_or_default(lang: str | None) -> str:
    return lang if lang in LANGS else DEFAULT_LANG


def t(key: str, lang: str | None = DEFAULT_LANG, **values) -> str:
    texts = catalog().get(key)
    if texts is None:
        return key
    text = texts.get(lang_or_default(lang)) or texts.get(DEFAULT_LANG) or key
    return text.format(**values) if values else text
