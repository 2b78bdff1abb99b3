"""The "page not found" page: what Dash Pages shows for any path no page is registered at
(the module name ending in ``not_found_404`` is how Dash Pages finds it). The HTTP status
of such a URL is 404 (dashboard/security.py); this is the helpful, translated page inside.
"""
from __future__ import annotations

import difflib

import dash
from dash import html

from dashboard import request
from dashboard.i18n import t
from layouts.common import href, lang_param, nav_pages, page_title, shell

PATH = "/404"


def _asked_path() -> str:
    """The path the browser asked for (the router callback's input)."""
    try:
        value = dash.ctx.inputs.get("_pages_location.pathname")
    except Exception:  # noqa: BLE001 - outside a callback
        value = None
    return value if isinstance(value, str) else ""


def layout(**query):
    req = request.read("overview", {"lang": query.get("lang")})
    lang = req.lang
    asked = _asked_path()[:200]
    keep = lang_param(lang)
    # The pages a lost visitor most likely wants: the navigation's, from the registry.
    known = [(page["path"], t(page["nav"], lang)) for page in nav_pages()]
    close = difflib.get_close_matches(asked.rstrip("/").lower() or "/", [p for p, _ in known], n=1, cutoff=0.5)
    blocks = [html.H1(t("nf_title", lang), className="page-title mb-3", id="not-found-title"),
              html.P(t("nf_body", lang, path=asked or "/"), id="not-found-path")]
    if close:
        name = dict(known)[close[0]]
        blocks.append(html.P([t("nf_suggest", lang), " ",
                              html.A(name, href=href(close[0], lang=keep), id="not-found-suggestion")]))
    blocks.append(html.P(t("nf_pages", lang)))
    blocks.append(html.Ul([html.Li(html.A(name, href=href(path, lang=keep))) for path, name in known],
                          id="not-found-pages"))
    return shell(html.Div(blocks, className="not-found"), req=req, active="", path=asked or PATH, warnings=[])


dash.register_page(__name__, path=PATH, name="not_found_404", title=page_title("nf_page_title"), layout=layout,
                   nav=False)  # not a destination: navigation built from the registry skips it
