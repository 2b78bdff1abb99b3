"""The wall screen's settings, read from its URL (see layouts/wall.py). Never raises: a bad
value gives a discreet note and the default (or the nearest allowed value)."""
from __future__ import annotations

from . import figures
from .i18n import lang_or_default, t

ROTATE_DEFAULT, ROTATE_RANGE, ROTATE_TEST_BELOW = 30, (1, 600), 5
REFRESH_DEFAULT, REFRESH_RANGE, REFRESH_TEST_BELOW = 300, (2, 3600), 30
THEMES = ("dark", "light")
MAX_INDICATORS = 12


def _int_param(name: str, raw, default: int, bounds: tuple[int, int], lang: str, notes: list[str]) -> int:
    if raw in (None, ""):
        return default
    try:
        value = int(float(str(raw).strip()))
    except (TypeError, ValueError, OverflowError):
        notes.append(t("wall_bad_number", lang, name=name, value=raw, used=default))
        return default
    lo, hi = bounds
    if value < lo or value > hi:
        used = min(max(value, lo), hi)
        notes.append(t("wall_clamped", lang, name=name, value=raw, lo=lo, hi=hi, used=used))
        return used
    return value


def parse_config(indicators=None, rotate=None, refresh=None, theme=None, lang=None, known=None) -> tuple[dict, list[str]]:
    """The wall's settings from URL parameters, never raising: (config, discreet notes)."""
    lang = lang_or_default(lang if isinstance(lang, str) else None)
    notes: list[str] = []
    known = list(known if known is not None else figures.indicators()["code"])
    chosen: list[str] = []
    unknown: list[str] = []
    if isinstance(indicators, str) and indicators.strip():
        for code in (c.strip() for c in indicators.split(",")):
            if not code:
                continue
            if code in known:
                if code not in chosen:
                    chosen.append(code)
            else:
                unknown.append(code[:40])
    if unknown:
        notes.append(t("wall_unknown_codes", lang, codes=", ".join(unknown[:10])))
    if not chosen:
        try:
            chosen = figures.headline_codes() or known[:4]
        except Exception:  # noqa: BLE001
            chosen = known[:4]
    chosen = chosen[:MAX_INDICATORS]
    rot = _int_param("rotate", rotate, ROTATE_DEFAULT, ROTATE_RANGE, lang, notes)
    ref = _int_param("refresh", refresh, REFRESH_DEFAULT, REFRESH_RANGE, lang, notes)
    if rot < ROTATE_TEST_BELOW:
        notes.append(t("wall_test_rotate", lang, n=rot))
    th = theme if theme in THEMES else "dark"
    if theme not in (None, "") and theme not in THEMES:
        notes.append(t("wall_bad_theme", lang, value=str(theme)[:20], used=th))
    return {"indicators": chosen, "rotate": rot, "refresh": ref, "theme": th, "lang": lang}, notes
