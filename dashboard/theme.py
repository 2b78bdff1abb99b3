"""The look of every figure: status colours, icons and text colours, fonts, the map's colour
scales and the wall's themes. Pages (``layouts/``), maps, slides and exported images all read
them here, so a status is drawn the same everywhere.

The status palette is chosen to stay apart for colour-blind readers and in greyscale print: the
statuses that are read against each other (achieved, on track, at risk, off track, overdue)
differ in lightness, not only in hue (``tests/test_theme.py`` simulates deuteranopia, protanopia
and greyscale), and every status also has an icon that is shown beside its colour in legends and
cells. Text on a fill is white or ink, whichever reaches 4.5:1.
"""
from __future__ import annotations

FONT = "Be Vietnam Pro, Noto Sans, DejaVu Sans, sans-serif"
INK = "#1f2328"
MUTED = "#57606a"

#: Statuses as drawn, in legend order; ``not_applicable`` = nobody there reports the indicator.
STATUS_ORDER = ("achieved", "on_track", "at_risk", "off_track", "overdue", "no_target", "no_data",
                "not_applicable")

STATUS_COLORS = {
    "achieved": "#1a6b35",       # dark green, lightness 40
    "on_track": "#8dbbe8",       # light blue, 74
    "at_risk": "#f7d054",        # amber, 85
    "off_track": "#e8602c",      # vermilion, 58
    "overdue": "#3d0f24",        # near-black maroon, 12: a missed deadline reads darkest
    "no_target": "#6b747e",      # grey, 48
    "no_data": "#dde2e7",        # pale grey, 90 (with "?" and a dashed outline)
    "not_applicable": "#f6f8fa",  # almost white, 97
}

#: Text drawn on each fill (contrast >= 4.5:1).
STATUS_TEXT_COLORS = {
    "achieved": "#ffffff", "on_track": INK, "at_risk": INK, "off_track": INK, "overdue": "#ffffff",
    "no_target": "#ffffff", "no_data": INK, "not_applicable": INK,
}

#: The second channel beside colour (legends, badges, scorecard cells, tables).
STATUS_ICONS = {
    "achieved": "✓", "on_track": "↗", "at_risk": "!", "off_track": "✗", "overdue": "⚑",
    "no_target": "○", "no_data": "?", "not_applicable": "–",
}

#: Statuses that count as "behind target" in lists and filters, worst first.
BEHIND = ("overdue", "off_track", "at_risk")


def status_color(status: str) -> str:
    return STATUS_COLORS.get(status, STATUS_COLORS["no_target"])


def status_text_color(status: str) -> str:
    return STATUS_TEXT_COLORS.get(status, "#ffffff")


def status_icon(status: str) -> str:
    return STATUS_ICONS.get(status, "")


def tint(hex_color: str, alpha: float = 0.16) -> str:
    """A light wash of a status colour for a table cell's background."""
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r}, {g}, {b}, {alpha})"


# --- map colour scales ---------------------------------------------------------------------------

#: Diverging scale around the target (ColorBrewer BrBG, colour-blind safe): browns short of the
#: target, blue-greens beyond it.
SCALE_SHORT = ("#8c510a", "#d8b365", "#f6e8c3")
SCALE_BEYOND = ("#c7eae5", "#5ab4ac", "#01665e")
SCALE_NO_TARGET = [[0.0, "#deebf7"], [0.5, "#6baed6"], [1.0, "#08519c"]]

# --- wall screens and slides --------------------------------------------------------------------

THEMES = {
    "light": {"paper": "#ffffff", "card": "#f6f8fa", "ink": INK, "muted": MUTED, "grid": "#d0d7de",
              "stale": "#8c959f"},
    "dark": {"paper": "#0d1117", "card": "#161b22", "ink": "#f0f3f6", "muted": "#b7bdc8", "grid": "#30363d",
             "stale": "#6e7681"},
}
