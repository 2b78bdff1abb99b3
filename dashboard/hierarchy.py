"""The vocabulary of the hierarchy: which levels exist, their order, their names, and the level
below a unit for each purpose. The one place in the code that knows about levels.

The levels are data (the ``levels`` table, seeded by migration 0003 with country, province, zone
and commune): a provincial department uses province → zone → commune, a Ministry country →
province → commune. Only the levels that hold units count, so a deployment without zones simply
has none. Facilities sit below every unit level under the fixed name :data:`FACILITY`.
"""
from __future__ import annotations

from dataclasses import dataclass

from .i18n import t

#: The leaf kind: facilities (hospitals, health centres, stations) report below every unit level.
FACILITY = "facility"
#: The kinds of facility (the ``facilities.type`` column).
FACILITY_TYPES = ("hospital", "health_centre", "station", "other")


@dataclass(frozen=True)
class Level:
    code: str
    depth: int
    name_vi: str
    name_en: str

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_vi


def _figures():
    from . import figures  # the read side reads the levels table; imported late (it imports us)

    return figures


def defined_levels() -> list[Level]:
    """Every level of the ``levels`` table, top first."""
    return _figures().levels()


def used_levels() -> list[str]:
    """The unit levels that hold at least one unit, top first."""
    present = set(_figures().levels_in_use())
    return [lv.code for lv in defined_levels() if lv.code in present]


def unit_levels() -> list[str]:
    """The unit levels a request may name: those in use, or every defined one in an empty database."""
    return used_levels() or [lv.code for lv in defined_levels()]


def all_levels() -> list[str]:
    """Every level a figure can be asked for: the unit levels, then facilities."""
    return unit_levels() + [FACILITY]


def is_level(code) -> bool:
    return isinstance(code, str) and code in all_levels()


def depth(level: str) -> int:
    """Position from the top (0); facilities below every unit level; unknown levels last."""
    order = all_levels()
    return order.index(level) if level in order else len(order)


def is_above(upper: str, lower: str) -> bool:
    return depth(upper) < depth(lower)


def root_level() -> str:
    return unit_levels()[0]


def below(level: str) -> str | None:
    """The next unit level below `level` (None at the lowest unit level and for facilities)."""
    order = unit_levels()
    if level not in order:
        return None
    i = order.index(level)
    return order[i + 1] if i + 1 < len(order) else None


def map_child(level: str) -> str:
    """What a map of `level`'s unit shows: its children, or at the lowest level its siblings."""
    return below(level) or (level if level != FACILITY else unit_levels()[-1])


def report_child(level: str) -> str:
    """Who stands below `level` in a list of units behind or not reporting: the next unit level,
    or the facilities below the lowest one."""
    return below(level) or FACILITY


def map_levels() -> list[str]:
    """The levels a map can colour: every unit level below the root."""
    return unit_levels()[1:]


def middle_level() -> str:
    """The first level below the root (zones, or provinces for a country): the default of the
    scorecard and of lists of units."""
    return below(root_level()) or root_level()


def lowest_level() -> str:
    return unit_levels()[-1]


def label(level: str, lang: str) -> str:
    """The level's name in `lang` ("Khu vực", "Zone"); facilities from the translations."""
    if level == FACILITY:
        return t("level_facility", lang)
    for lv in defined_levels():
        if lv.code == level:
            return lv.name(lang)
    return str(level)


def entity_kinds() -> list[str]:
    """What may report an indicator: a unit level, or a kind of facility ("facility:hospital")."""
    return [lv.code for lv in defined_levels()] + [f"{FACILITY}:{kind}" for kind in FACILITY_TYPES]


def kind_word(kind: str, lang: str) -> str:
    """How a count of reporting entities of `kind` is worded ("xã/phường", "zones",
    "bệnh viện"): the translations where they exist, else the level's own name in lower case."""
    key = f"kind_{kind}"
    word = t(key, lang)
    if word != key:
        return word
    return label(kind, lang).lower()
