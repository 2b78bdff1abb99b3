"""The wall screen's settings, from the request read by dashboard.request (view "wall"): which
indicators, seconds per slide, seconds between refreshes, theme and language. Never raises: a
bad value gives a discreet note and the default (or the nearest allowed value)."""
from __future__ import annotations

from . import figures
from .i18n import t
from .request import Request

#: Below this many seconds per slide is a test range (benches, browser tests): allowed, noted.
ROTATE_TEST_BELOW = 5


def wall_config(req: Request) -> tuple[dict, list[str]]:
    """(config, notes): the settings a wall runs on and the discreet notes about its URL."""
    lang = req.lang
    notes = [p.detail(lang) for p in req.problems]
    chosen = list(req.indicators)
    if not chosen:
        try:
            known = list(figures.indicators()["code"])
            chosen = figures.headline_codes() or known[:4]
        except Exception:  # noqa: BLE001 - the wall's frame must render even when the database does not
            chosen = []
    if any(k == "period" for k, _v in req.asked) and not any(p.parameter == "period" for p in req.problems) \
            and req.period_label:
        notes.append(t("wall_latest_only", lang))  # a past period: the wall still shows the latest month
    rotate = req.get("rotate")
    if rotate < ROTATE_TEST_BELOW:
        notes.append(t("wall_test_rotate", lang, n=rotate))
    return {"indicators": chosen, "rotate": rotate, "refresh": req.get("refresh"), "theme": req.get("theme"),
            "lang": lang}, notes
