"""How every trend chart shows the 2025 reform: one rule, used by the overview's sparklines, the
map panel's trend, the unit page, the wall and the briefing slides.

* A month's figure carries its basis (``aggregates.basis``: 0 reported, 1 from predecessors
  exact, 2 estimated). Reported months are drawn as the chart always drew them; months derived
  exactly from the old units are drawn **dashed**, estimated months **dotted**. A derived run is
  joined to the month after it, so the line stays one line across the date.
* When the months shown span the reform (one before 2025-07, one from it), a thin vertical line
  marks 2025-07, labelled "Sắp xếp ĐVHC 01/07/2025" ("2025 reform") where the chart has room.

Light by construction: a series reported throughout is one trace, unchanged; each other basis
present adds one trace (its runs separated by gaps), and the date is one shape.
"""
from __future__ import annotations

from typing import Callable, Iterable, Sequence

import plotly.graph_objects as go

from .i18n import t

REFORM_MONTH = "2025-07"
DASH = {0: None, 1: "dash", 2: "dot"}
LINE_COLOUR = "#8c959f"


def _as_int(value) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 0
    return number if number in DASH else 0


def bases(values: Iterable) -> list[int]:
    """A series' basis per month as 0/1/2 (missing: 0)."""
    return [_as_int(v) for v in values]


def spans_reform(months: Sequence[str]) -> bool:
    """Do the months shown run across 2025-07 (one before it, one from it)?"""
    shown = [str(m)[:7] for m in months if m is not None]
    return bool(shown) and min(shown) < REFORM_MONTH <= max(shown)


def split(y: Sequence, basis: Sequence[int]) -> dict[int, list]:
    """{basis: y values of that basis, None elsewhere}. A derived run also takes the neighbour
    after it (and before it), so its dashes meet the reported line."""
    n = len(y)
    out: dict[int, list] = {}
    for b in sorted(set(basis)):
        ys = [y[i] if basis[i] == b else None for i in range(n)]
        if b != 0:
            for i in range(n):
                if basis[i] != b:
                    continue
                if i + 1 < n and basis[i + 1] != b:
                    ys[i + 1] = y[i + 1]
                if i > 0 and basis[i - 1] != b:
                    ys[i - 1] = y[i - 1]
        out[b] = ys
    return out


def traces(x: Sequence, y: Sequence, basis: Iterable, lang: str, *, name: str | None = None,
           line: dict | None = None, showlegend: bool | None = None, **scatter) -> list[go.Scatter]:
    """The series as traces: solid where reported, dashed where exact, dotted where estimated.

    `scatter` is what the chart gives its line (mode, marker, hovertemplate, customdata, xaxis…);
    a per-point list of the same length as `x` (customdata) is kept aligned. A series reported
    throughout gives exactly one trace, as before."""
    x, y = list(x), [None if v != v else v for v in y]  # NaN → None (a gap)
    basis = bases(basis)
    if len(basis) != len(x):
        basis = [0] * len(x)
    parts = split(y, basis)
    if set(parts) <= {0}:
        return [go.Scatter(x=x, y=y, name=name, line=line or {}, showlegend=showlegend, **scatter)]
    out = []
    for b, ys in parts.items():
        style = dict(line or {})
        if DASH[b]:
            style["dash"] = DASH[b]
        label = name if b == 0 else t(f"rf_basis_{b}", lang)
        out.append(go.Scatter(x=x, y=ys, name=label, line=style, legendgroup=f"basis{b}",
                              showlegend=showlegend, **scatter))
    return out


def add_series(fig: go.Figure, x: Sequence, y: Sequence, basis: Iterable, lang: str, **kwargs) -> go.Figure:
    for trace in traces(x, y, basis, lang, **kwargs):
        fig.add_trace(trace)
    return fig


def add_reform_line(fig: go.Figure, months: Sequence[str], lang: str, *, x_of: Callable[[str], object] | None = None,
                    label: bool = True, xref: str = "x", yref: str = "paper", font_size: int = 11,
                    colour: str = LINE_COLOUR) -> go.Figure:
    """A vertical line at 2025-07 when the months shown span it; labelled when `label`.
    `x_of` turns 'YYYY-MM' into the axis' x (default: the month itself, which plotly reads as a
    date; a category axis passes its own label)."""
    if not spans_reform(months):
        return fig
    x = x_of(REFORM_MONTH) if x_of else f"{REFORM_MONTH}-01"
    y = "paper" if yref == "paper" else f"{yref} domain"  # a subplot's own height
    fig.add_shape(type="line", x0=x, x1=x, y0=0, y1=1, xref=xref, yref=y,
                  line={"color": colour, "width": 1, "dash": "dot"}, layer="below")
    if label:
        fig.add_annotation(x=x, y=1, xref=xref, yref=y, yanchor="top", xanchor="left", showarrow=False,
                           text=t("rf_reform_line", lang), font={"size": font_size, "color": colour})
    return fig


def mark(basis: int, lang: str = "vi") -> str:
    """The mark a table cell carries beside a derived figure: ↺ exact, ≈ estimated, '' reported."""
    b = _as_int(basis)
    return t(f"rf_mark_{b}", lang) if b else ""


def basis_word(basis: int, lang: str) -> str:
    return t(f"rf_basis_{_as_int(basis)}", lang)
