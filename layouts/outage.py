"""The outage banner of every page, and the page retrying by itself until the data is back.

When a page is built from last-good figures (dashboard.cache: the database did not
answer) or before the first start has finished, ``shell`` puts :func:`banner` at the top:
one discreet line with the time of the figures shown, and a ``dcc.Interval``. Each tick
asks the server whether the database answers again (:func:`retry`); it backs off from 5 s
to 30 s, and on the first good answer re-renders the page's content in place, from the
same URL, through the registered page layout: no reload, no lost scroll position in the
browser's history, and the banner disappears with the old content. If the server itself
is unreachable the tick's request fails in the browser, nothing is replaced, and the next
tick tries again.

The Interval exists only while a banner is shown, so a healthy page has no timer (each
Dash Interval tick is recorded in the renderer's undo history).
"""
from __future__ import annotations

import logging
import time
from datetime import datetime

import dash
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard import bootstrap, cache, figures
from dashboard.i18n import t

log = logging.getLogger(__name__)

RETRY_MS = (5_000, 5_000, 5_000, 10_000, 10_000, 20_000, 30_000)


def _stamp(epoch: float, lang: str) -> str:
    when = datetime.fromtimestamp(epoch)
    hhmm = when.strftime("%H:%M")
    if when.date() == datetime.now().date():
        return t("outage_time_today", lang, hhmm=hhmm)
    return t("outage_time_other_day", lang, hhmm=hhmm, date=when.strftime("%d/%m/%Y"))


def banner_text(lang: str) -> str | None:
    """What the banner says for the current request, None when all its figures were fresh."""
    out = cache.outage()
    if not bootstrap.is_ready() and (out is None or not out.served):
        return t("outage_starting", lang)
    if out is None:
        return None
    if out.served and out.as_of is not None:
        key = "outage_partial" if out.missing else "outage_showing"
        return t(key, lang, time=_stamp(out.as_of, lang))
    return t("outage_retrying", lang)


def banner(lang: str) -> html.Div | None:
    text = banner_text(lang)
    if text is None:
        return None
    out = cache.outage()
    as_of = datetime.fromtimestamp(out.as_of).isoformat(timespec="seconds") if out and out.as_of else ""
    return html.Div([
        html.Span(text, className="outage-text"),
        dcc.Interval(id="outage-retry", interval=RETRY_MS[0], n_intervals=0),
    ], id="outage-banner", className="outage-banner no-print", role="status", **{"data-as-of": as_of})


def _ready() -> bool:
    return bootstrap.is_ready() and figures.database_answers()


def render_page(pathname: str | None, search: str | None):
    """The page's content for a URL, as Dash Pages' router builds it."""
    from dash._pages import _parse_query_string, _path_to_page

    app = dash.get_app()
    page, variables = _path_to_page((app.strip_relative_path(pathname or "/") or "").strip("/"))
    if not page:
        page = next((p for m, p in dash.page_registry.items() if m.split(".")[-1] == "not_found_404"), {})
    layout = page.get("layout", "")
    if callable(layout):
        return layout(**{**(variables or {}), **_parse_query_string(search)})
    return layout


@callback(Output("_pages_content", "children", allow_duplicate=True), Output("outage-retry", "interval"),
          Input("outage-retry", "n_intervals"), State("_pages_location", "pathname"),
          State("_pages_location", "search"), prevent_initial_call=True)
def retry(n_intervals, pathname, search):
    """One retry tick: the page again once the data is back, else wait a little longer."""
    try:
        tick = int(n_intervals or 0)
    except (TypeError, ValueError):
        tick = 0
    wait = RETRY_MS[min(max(tick, 0), len(RETRY_MS) - 1)]
    try:
        if not _ready():
            return no_update, wait
        started = time.monotonic()
        content = render_page(pathname if isinstance(pathname, str) else "/",
                              search if isinstance(search, str) else "")
        log.info("page %s re-rendered after recovery in %.2f s", pathname, time.monotonic() - started)
        return content, no_update
    except Exception:  # noqa: BLE001 - keep what is on screen; the next tick tries again
        log.warning("retry of %s failed; keeping the page on screen", pathname, exc_info=True)
        return no_update, wait
