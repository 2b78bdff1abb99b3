"""Wall screen (/wall): the operations-room TV. Configured entirely by the URL, e.g.

    /wall?indicators=hssk,cashless,emr,tthc_online&rotate=30&refresh=300&theme=dark&lang=vi

* ``indicators`` comma-separated codes (default: the headline indicators); unknown codes
  are dropped with a discreet note.
* ``rotate`` seconds per slide, 5–600 (default 30). 1–4 is a test range (benches and
  browser tests), allowed and noted on screen; anything else is clamped.
* ``refresh`` seconds between data refreshes, 2–3600 (default 300).
* ``theme`` dark (default) | light; ``lang`` vi (default) | en.

No navigation, controls or scroll bars. Slides: the headline cards, a map per indicator
(the units behind named on it, the legend beside the land), the other indicators behind
schedule (default wall), the units most behind target (full names, "+N" for those that do
not fit), reporting completeness. Every slide shows the clock and
"Số liệu đến tháng MM/YYYY"; the demo label while demo data is loaded.

How it keeps going for days (see assets/wall.js):

* Rotation, the clock, the 4K scale and the connection banner are plain browser timers in
  ``assets/wall.js``, not Dash callbacks: each dcc.Interval tick is recorded in the Dash
  renderer's undo history (``history.past`` grows by one entry per tick, forever), which a
  one-second clock would turn into a leak. Only the data refresh is a dcc.Interval (one
  tick per ``refresh`` seconds).
* The refresh callback returns new slide contents. If the database fails it catches the
  exception and returns ``no_update`` for the slides plus a status flag, so the last good
  figures stay; if the server is unreachable the request fails in the browser, nothing is
  replaced, and wall.js notices that no answer came within ``refresh`` + grace. Either way
  a discreet banner says "Mất kết nối — đang hiển thị số liệu lúc HH:MM", and it goes away
  by itself at the first good answer.
* No error box: dev tools UI is off outside debug (dashboard.webapp.main), every failure is
  caught here, and nothing on the page raises.

Figures older than their reporting cycle are greyed with a note (rule in dashboard/slides.py).
"""
from __future__ import annotations

import json
import logging
import time

import dash
import plotly.graph_objects as go
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboard import cache, figures, hierarchy, reform_marks, request, slides, theme
from dashboard.auth import wall_access
from dashboard import formatting as fmt
from dashboard.i18n import t
from dashboard.wallconfig import wall_config
from layouts.common import page_title

log = logging.getLogger(__name__)

PER_SLIDE = 4


# --- slides ------------------------------------------------------------------------------

def _pill(status: str, text: str, stale: bool = False) -> html.Span:
    return html.Span(text, className="wall-pill",
                     style={"backgroundColor": theme.THEMES["dark"]["stale"] if stale else theme.status_color(status),
                            "color": theme.status_text_color(status) if not stale else "#ffffff"})


def _spark(card: slides.Card, theme_name: str) -> dcc.Graph:
    th = theme.THEMES[theme_name]
    colour = th["stale"] if card.stale else theme.status_color(card.status)
    fig = go.Figure()
    reform_marks.add_series(fig, card.spark_x, card.spark_y, card.spark_basis, "vi", mode="lines+markers",
                            hoverinfo="skip", line={"color": colour, "width": 4}, marker={"size": 6}, connectgaps=False)
    reform_marks.add_reform_line(fig, card.spark_x, "vi", label=False, colour=th["muted"])
    if card.target is not None and card.spark_x:
        fig.add_trace(go.Scatter(x=[card.spark_x[0], card.spark_x[-1]], y=[card.target, card.target], mode="lines",
                                 hoverinfo="skip", line={"color": th["muted"], "dash": "dash", "width": 2}))
    fig.update_layout(margin={"l": 0, "r": 0, "t": 4, "b": 4}, showlegend=False, autosize=True,
                      paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
                      xaxis={"visible": False}, yaxis={"visible": False})
    return dcc.Graph(figure=fig, config={"staticPlot": True, "displayModeBar": False, "responsive": True},
                     className="wall-spark", style={"height": "100%", "width": "100%"})


def _card(card: slides.Card, theme_name: str) -> html.Div:
    stale = bool(card.stale)
    return html.Div([
        html.Div(card.name, className="wall-card-name"),
        html.Div([html.Span(card.value_text, className="wall-big", id=f"wall-value-{card.code}",
                            **{"data-value": "" if card.value is None else repr(card.value)}),
                  _pill(card.status, card.status_text, stale)], className="wall-card-value"),
        html.Div(card.caveat and "⚠ " + card.caveat, className="wall-caveat", id=f"wall-caveat-{card.code}"),
        html.Div(card.target_text, className="wall-muted"),
        html.Div(card.gap_text, className="wall-gap"),
        html.Div(html.Div(_spark(card, theme_name), className="wall-graph-box"), className="wall-spark-box"),
        html.Div(card.completeness_text, className="wall-muted wall-small"),
        html.Div(("⚠ " + card.stale_text) if stale else "", className="wall-stale-note"),
    ], className="wall-card" + (" is-stale" if stale else ""),
        style={"borderTopColor": theme.THEMES["dark"]["stale"] if stale else theme.status_color(card.status)})


def _section(key: str, title: str, body, lang: str, extra_class: str = "") -> html.Section:
    return html.Section([html.H1(title, className="wall-slide-title"), body],
                        className=f"wall-slide {extra_class}".strip(), id=f"wall-slide-{key}",
                        **{"data-key": key})


def overview_slides(cards: list[slides.Card], cfg: dict) -> list[html.Section]:
    lang, theme_name = cfg["lang"], cfg["theme"]
    out = []
    per = 6 if len(cards) > PER_SLIDE else PER_SLIDE
    for i in range(0, len(cards), per):
        chunk = cards[i:i + per]
        key = "overview" if i == 0 else f"overview-{i // per + 1}"
        out.append(_section(key, t("wall_slide_overview", lang),
                            html.Div([_card(c, theme_name) for c in chunk],
                                     className=f"wall-cards wall-cards-{len(chunk)}"), lang))
    return out


def _wall_map(code: str, card: slides.Card, cfg: dict) -> dcc.Graph:
    lang = cfg["lang"]
    th = theme.THEMES[cfg["theme"]]
    unit = figures.root_code()
    level = hierarchy.map_child(figures.entity(unit)["level"])
    # map_figure builds a new figure each call: restyled in place, never copied (a copy of its
    # GeoJSON was a third of a cold wall's time).
    fig = slides.restyle_map(slides.map_figure(code, card.period, unit, lang), size=24, ink=th["ink"],
                             legend_bg="rgba(0,0,0,0)", plot_height=780)
    if any(tr.type == "choropleth" for tr in fig.data):
        # the units behind named on the map; the ones outside its frame named in the note under it
        slides.label_units(fig, slides.units_behind(code, card.period, unit, lang, level=level)["rows"], level, lang,
                           size=20)
        page_note = t("map_outside_frame", lang, units="")
        for ann in fig.layout.annotations or ():
            if isinstance(ann.text, str) and ann.text.startswith(page_note):
                ann.update(text=t("wall_outside_frame", lang, units=ann.text[len(page_note):]))
    fig.update_layout(paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)", autosize=True,
                      width=None, height=None, title=None, margin={"l": 10, "r": 10, "t": 20, "b": 50},
                      font={"family": slides.FONT_FAMILY, "size": 22, "color": th["ink"]})
    fig.update_xaxes(color=th["ink"], gridcolor=th["grid"])
    fig.update_yaxes(color=th["ink"])
    config = {"staticPlot": True, "displayModeBar": False, "responsive": True,
              # go.Choropleth's base topology from assets/, never a CDN (the wall may be offline)
              "topojsonURL": dash.get_asset_url("topojson/")}
    return dcc.Graph(figure=fig, config=config, className="wall-map", style={"height": "100%", "width": "100%"})


def map_slide(code: str, card: slides.Card, cfg: dict) -> html.Section:
    lang = cfg["lang"]
    stale = bool(card.stale)
    side = html.Div([
        html.Div(t("wall_overall", lang), className="wall-muted"),
        html.Div(card.value_text, className="wall-big"),
        _pill(card.status, card.status_text, stale),
        html.Div(card.caveat and "⚠ " + card.caveat, className="wall-caveat"),
        html.Div(card.target_text, className="wall-muted wall-mt"),
        html.Div(card.gap_text, className="wall-gap"),
        html.Div(card.completeness_text, className="wall-muted wall-small wall-mt"),
        html.Div(fmt.month(card.period), className="wall-muted wall-small"),
        html.Div(("⚠ " + card.stale_text) if stale else "", className="wall-stale-note"),
    ], className="wall-map-side" + (" is-stale" if stale else ""))
    if slides.has_map(code, figures.root_code()):
        graph = _wall_map(code, card, cfg)
    else:  # reported by the province alone: nothing to map, show the trend
        fig = slides.trend_figure(code, figures.root_code(), card.period, lang, theme=cfg["theme"])
        fig.update_layout(paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)", autosize=True,
                          width=None, height=None, margin={"l": 90, "r": 30, "t": 60, "b": 120},
                          font={"family": slides.FONT_FAMILY, "size": 22, "color": theme.THEMES[cfg["theme"]]["ink"]})
        graph = dcc.Graph(figure=fig, config={"staticPlot": True, "displayModeBar": False, "responsive": True},
                          className="wall-map", style={"height": "100%", "width": "100%"})
    body = html.Div([html.Div(html.Div(graph, className="wall-graph-box"),
                              className="wall-map-area" + (" is-stale" if stale else "")), side],
                    className="wall-map-layout")
    return _section(f"map-{code}", figures.name_of_indicator(code, lang), body, lang)


#: Indicators side by side on a "units behind" slide, and units listed in each before "+N".
BEHIND_PER_SLIDE = 2
BEHIND_ROWS = 12


def _behind_block(data: dict, lang: str) -> html.Div:
    """One indicator's units behind: full names (wrapped, never cut), value, status, the gap in
    real units; "+N" when more are behind than fit, so the list and the count always agree."""
    kind = hierarchy.kind_word(data["level"], lang)
    if data["rows"]:
        items = [html.Li([html.Div([html.Span(r["name"], className="wall-unit-name"),
                                    html.Span(r["value_text"], className="wall-unit-value"),
                                    _pill(r["status"], r["status_text"], bool(r["stale_text"]))],
                                   className="wall-unit-row"),
                          html.Div(r["gap_text"] + (f" · {r['stale_text']}" if r["stale_text"] else "")
                                   + (f" · ⚠ {r['caveat']}" if r.get("caveat") else ""),
                                   className="wall-unit-gap")],
                         className="wall-unit" + (" is-stale" if r["stale_text"] else ""),
                         **{"data-code": r["code"]})
                 for r in data["rows"]]
        # wall.js hides the rows that do not fit the screen and adds them to "+N" (data-base: the
        # ones not sent at all), so what is listed and "+N" always add up to the count.
        body = [html.Ol(items, className="wall-units"),
                html.Div(slides.more_text(data["more"], data["level"], lang), className="wall-more",
                         hidden=not data["more"],
                         **{"data-base": str(data["more"]), "data-more": str(data["more"]),
                            "data-template": t("wall_more_behind", lang, n="{n}", kind=kind)})]
    elif data["applicable"]:
        body = [html.Div(t("wall_none_behind", lang), className="wall-muted")]
    else:  # e.g. reported by the province alone: no unit of this level reports it
        body = [html.Div(t("wall_not_broken_down", lang, level=hierarchy.label(data["level"], lang).lower()),
                         className="wall-muted")]
    count = html.Div(t("wall_behind_of", lang, n=data["count_behind"], total=data["count"], kind=kind)
                     if data["applicable"] else "",
                     className="wall-muted wall-small wall-behind-count",
                     **{"data-behind": str(data["count_behind"]), "data-total": str(data["count"])})
    return html.Div([html.Div(data["name"], className="wall-card-name"), count, *body],
                    className="wall-block wall-fit", id=f"wall-behind-{data['code']}")


def behind_slides(codes: list[str], cfg: dict, root: str) -> list[html.Section]:
    lang = cfg["lang"]
    out = []
    for i in range(0, len(codes), BEHIND_PER_SLIDE):
        chunk = codes[i:i + BEHIND_PER_SLIDE]
        blocks = [_behind_block(slides.units_behind(code, None, root, lang, n=BEHIND_ROWS), lang) for code in chunk]
        key = "behind" if i == 0 else f"behind-{i // BEHIND_PER_SLIDE + 1}"
        out.append(_section(key, t("wall_behind_title", lang),
                            html.Div(blocks, className=f"wall-blocks wall-blocks-row wall-blocks-{len(blocks)}"),
                            lang))
    return out


def offtrack_slides(cfg: dict, root: str, newest: str | None) -> list[html.Section]:
    """The default wall shows the headline indicators; this slide shows the others that are
    overdue, off track or at risk (or says that none is), so nothing behind goes unseen."""
    lang = cfg["lang"]
    others = [c for c in figures.indicators()["code"] if c not in cfg["indicators"]]
    if not others:
        return []
    behind = slides.off_track_codes(others, root, newest=newest)
    if not behind:
        return [_section("others", t("wall_offtrack_title", lang),
                         html.Div(t("wall_offtrack_none", lang), className="wall-muted wall-none"), lang)]
    cards = [slides.card(code, None, root, lang, newest=newest) for code in behind]
    out = []
    for i in range(0, len(cards), 6):
        chunk = cards[i:i + 6]
        key = "others" if i == 0 else f"others-{i // 6 + 1}"
        out.append(_section(key, t("wall_offtrack_title", lang),
                            html.Div([_card(c, cfg["theme"]) for c in chunk],
                                     className=f"wall-cards wall-cards-{len(chunk)}"), lang))
    return out


def completeness_slides(codes: list[str], cfg: dict, root: str) -> list[html.Section]:
    lang = cfg["lang"]
    out = []
    per = 6
    for i in range(0, len(codes), per):
        rows = []
        for code in codes[i:i + per]:
            d = slides.completeness(code, None, root, lang, n=3)
            pct = d["pct"] if d["pct"] is not None else 0.0
            missing = d["expected"] - d["reported"]
            worst = ", ".join(f"{w['name']} {w['pct_text']}" for w in d["worst"])
            rows.append(html.Div([
                html.Div(d["name"], className="wall-comp-name"),
                html.Div(html.Div(className="wall-comp-fill", style={"width": f"{min(max(pct, 0), 100):.1f}%"}),
                         className="wall-comp-bar"),
                html.Div(d["pct_text"], className="wall-comp-pct"),
                html.Div([
                    html.Span(f"{d['reported']}/{d['expected']} {d['kind']}"),
                    html.Span(" · " + (t("wall_not_reported_n", lang, n=missing, kind=d["kind"]) if missing
                                       else t("wall_all_reported", lang))),
                    html.Span((" · " + t("wall_least_reporting", lang) + " " + worst) if worst else ""),
                ], className="wall-comp-detail wall-muted"),
            ], className="wall-comp-row"))
        key = "completeness" if i == 0 else f"completeness-{i // per + 1}"
        out.append(_section(key, t("wall_completeness_title", lang), html.Div(rows, className="wall-comp"), lang))
    return out


def build_slides(cfg: dict) -> list[html.Section]:
    """Every slide, from the database (raises if the database fails: the caller decides)."""
    root = figures.root_code()
    newest = figures.latest_month()
    cards = [slides.card(code, None, root, cfg["lang"], newest=newest) for code in cfg["indicators"]]
    deck = overview_slides(cards, cfg)
    deck += [map_slide(c.code, c, cfg) for c in cards]
    if cfg["indicators"] == figures.headline_codes():  # the default wall: the others behind too
        deck += offtrack_slides(cfg, root, newest)
    deck += behind_slides(cfg["indicators"], cfg, root)
    deck += completeness_slides(cfg["indicators"], cfg, root)
    return deck


_DECKS: dict = {}


def cached_slides(cfg: dict) -> list[html.Section]:
    """build_slides, remembered per data version, settings and day (the staleness rule reads
    today's date): a refresh with nothing new costs one small query, not a rebuild of the maps."""
    key = deck_key(cfg)
    deck = _DECKS.get(key)
    if deck is None:
        deck = build_slides(cfg)
        if len(_DECKS) >= 16:
            _DECKS.pop(next(iter(_DECKS)))
        _DECKS[key] = deck
    return deck


def deck_key(cfg: dict) -> str:
    import datetime
    import hashlib

    raw = f"{figures.version()}|{json.dumps(cfg, sort_keys=True)}|{datetime.date.today().isoformat()}"
    return hashlib.sha1(raw.encode()).hexdigest()[:16]


def meta_children(lang: str) -> list:
    """The header's data stamp and demo label (refreshed with the data)."""
    newest = figures.latest_month()
    until = t("data_until", lang, month=fmt.month(newest)) if newest else t("wall_no_data", lang)
    out = [html.Span(until, className="wall-until", id="wall-until")]
    if figures.is_demo():
        out.append(html.Span(t("demo_banner", lang).split(" — ")[0], className="wall-demo", id="wall-demo",
                             title=t("demo_banner", lang)))
    return out


def _status(ok: bool, seq: int, kind: str = "ok", deck: str = "") -> str:
    return json.dumps({"ok": ok, "seq": seq, "kind": kind, "deck": deck, "server_time": time.strftime("%H:%M")})


def denied_slide(reason: str, lang: str) -> html.Section:
    """What a screen shows instead of figures when it may not show them (a revoked or unknown
    token, no token and no sign-in): one slide saying why, in the screen's language."""
    return html.Section([html.H1(t("auth_wall_denied_title", lang), className="wall-slide-title"),
                         html.Div(t(reason, lang), className="wall-denied-text", id="wall-denied")],
                        className="wall-slide wall-denied", id="wall-slide-denied", **{"data-key": "denied"})


def layout(**query):
    req = request.read("wall", query)
    lang = req.lang
    cfg, notes = wall_config(req)
    token = req.get("token")
    try:
        access = wall_access(token)
        if access.allowed:
            deck = cached_slides(cfg)
            meta = meta_children(lang)
            status = _status(True, 0, deck=deck_key(cfg))
        else:
            deck, meta, status = [denied_slide(access.reason, lang)], [], _status(True, 0, "denied",
                                                                                  deck=f"denied:{access.reason}")
    except Exception:  # noqa: BLE001
        log.exception("wall: first render failed; the refresh will retry")
        deck = [_section("loading", t("wall_loading", lang), html.Div(), lang)]
        meta = [html.Span(t("wall_loading", lang), className="wall-until", id="wall-until")]
        status = _status(False, 0, "db")
    province = ""
    try:
        province = figures.entity(figures.root_code())["name"]
    except Exception:  # noqa: BLE001
        pass
    header = html.Header([
        html.Div([html.Div(t("department_of", lang, name=province) if province else t("app_title", lang),
                           className="wall-dept"),
                  html.Div(meta, id="wall-meta", className="wall-meta")], className="wall-head-left"),
        html.Div([html.Div("", id="wall-clock", className="wall-clock", **{"aria-label": t("wall_clock_label", lang)}),
                  html.Div("", id="wall-date", className="wall-date")], className="wall-head-right"),
    ], className="wall-head")
    return html.Div([
        header,
        html.Main(deck, id="wall-deck", className="wall-deck", **{"data-active": "0"}),
        html.Footer([
            html.Div(" · ".join(notes), className="wall-notes", id="wall-notes"),
            html.Div("", className="wall-progress", id="wall-progress"),
        ], className="wall-foot"),
        html.Div("", id="wall-banner", className="wall-banner", role="status"),
        html.Div(status, id="wall-status", className="wall-hidden"),
        dcc.Interval(id="wall-refresh", interval=cfg["refresh"] * 1000, n_intervals=0),
        dcc.Store(id="wall-config", data={**cfg, "indicators": ",".join(cfg["indicators"])}),
        dcc.Store(id="wall-token", data=token),
    ], id="wall-root", className=f"wall wall-theme-{cfg['theme']}", lang=lang,
        **{"data-rotate": str(cfg["rotate"]), "data-refresh": str(cfg["refresh"]), "data-lang": lang,
           "data-msg-offline": t("wall_offline", lang, time="{time}"),
           "data-msg-db": t("wall_db_error", lang, time="{time}"),
           "data-msg-loading": t("wall_waiting", lang)})


dash.register_page(__name__, path="/wall", name="wall", nav="nav_wall", order=3, title=page_title("nav_wall"),
                   layout=layout)


@callback(Output("wall-deck", "children"), Output("wall-meta", "children"), Output("wall-status", "children"),
          Input("wall-refresh", "n_intervals"), State("wall-config", "data"), State("wall-status", "children"),
          State("wall-token", "data"), prevent_initial_call=True)
def refresh_wall(n_intervals, cfg, last_status, token=None):
    """New slide contents every `refresh` seconds (only when the data changed: otherwise just a
    fresh status). A failure keeps what is on screen. The screen's token (or its reader) is
    checked at every refresh: a revoked one replaces the figures by the reason."""
    # Callback payloads come from the browser: the stored settings go through the reader like a URL.
    seq = n_intervals if isinstance(n_intervals, int) and not isinstance(n_intervals, bool) else 0
    try:
        clean, _notes = wall_config(request.read("wall", cfg if isinstance(cfg, dict) else {}))
        lang = clean["lang"]
        access = wall_access(token if isinstance(token, str) else None)
        if not access.allowed:
            key = f"denied:{access.reason}"
            if _shown_deck(last_status) == key:
                return no_update, no_update, _status(True, seq, "denied", deck=key)
            return [denied_slide(access.reason, lang)], [], _status(True, seq, "denied", deck=key)
        key = deck_key(clean)
        if cache.outage() is not None:  # the figures came from the last-good fallback
            log.warning("wall refresh failed: database unavailable; keeping the last figures on screen")
            return no_update, no_update, _status(False, seq, "db", deck=_shown_deck(last_status) or "")
        if _shown_deck(last_status) == key:
            return no_update, no_update, _status(True, seq, deck=key)
        return cached_slides(clean), meta_children(clean["lang"]), _status(True, seq, deck=key)
    except Exception:  # noqa: BLE001 - never an error box on the wall: keep the last good slides
        log.exception("wall refresh failed; keeping the last figures on screen")
        return no_update, no_update, _status(False, seq, "db")


def _shown_deck(last_status) -> str | None:
    try:
        return json.loads(last_status or "{}").get("deck")
    except (TypeError, ValueError, AttributeError):
        return None
