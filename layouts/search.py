"""Find a unit (/search?q=kien+thuy): every unit whose name matches what was typed in the
shell's search box, within the reader's access scope, each with a link to its page and its map."""
from __future__ import annotations

import dash
from dash import html

from dashboard import request, unitsearch
from dashboard import formatting as fmt
from dashboard.i18n import t
from layouts.common import page_title, search_results, shell

PATH = "/search"


def layout(**query):
    req = request.read("search", query)
    lang = req.lang
    asked = (req.get("q") or "").strip()
    blocks = [html.H1(t("search_title", lang), className="page-title mb-3")]
    if not unitsearch.normalise(asked):
        blocks.append(html.P(t("search_empty", lang), id="search-empty"))
    else:
        try:
            found = unitsearch.find(asked, scope=req.scope, limit=50)
        except Exception:  # noqa: BLE001 - the database may be away: the shell's banner says so
            found = []
        if found:
            blocks.append(html.P(t("search_found", lang, count=fmt.number(len(found), 0, lang), query=asked),
                                 id="search-count"))
        blocks.append(search_results(found, lang, "search-list", asked))
    return shell(html.Div(blocks, className="search-page"), req=req, active="search", path=PATH)


dash.register_page(__name__, path=PATH, name="search", title=page_title("nav_search"), layout=layout, nav=False)
