"""The five file formats: their columns, their keys, and what kind of cell each column holds.

docs/data-formats.md explains every column to the people who fill the files in; this module
is what the checks hold them to.
"""
from __future__ import annotations

from dataclasses import dataclass

from .. import store

KINDS = ("units", "facilities", "indicators", "targets", "values")
UNIT_LEVELS = store.UNIT_LEVELS
FACILITY_TYPES = store.FACILITY_TYPES
LEVEL_ORDER = store.LEVEL_ORDER
ENTITY_KINDS = UNIT_LEVELS + tuple(f"facility:{t_}" for t_ in FACILITY_TYPES)
DEFAULT_SCOPE = ("commune",)
CODE_LIMIT = 32  # the width of every code column in the schema

#: How a file writes numbers. "plain": dot decimal, no grouping (1165558, 85.3).
#: "vi": "." groups thousands and "," marks decimals (1.165.558, 85,3), as stated by the user.
NUMBER_FORMATS = ("plain", "vi")


@dataclass(frozen=True)
class Format:
    required: tuple[str, ...]
    optional: tuple[str, ...]
    key: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


#: Labels of an indicator, in the file and in the database alike.
INDICATOR_TEXTS = ("short_vi", "short_en", "numerator_vi", "denominator_vi", "numerator_en", "denominator_en",
                   "unit_vi", "unit_en", "gap_vi", "gap_en")

FORMATS: dict[str, Format] = {
    "units": Format(("code", "name", "level", "parent_code"), ("valid_from", "valid_to", "official_code"), ("code",)),
    "facilities": Format(("code", "name", "type", "unit_code"), ("lat", "lon"), ("code",)),
    "indicators": Format(("code", "name_vi", "name_en", "time", "higher_is_better"),
                         INDICATOR_TEXTS + ("decimals", "display_unit", "reported_by", "group", "headline",
                                            "sort_order"),
                         ("code",)),
    "targets": Format(("indicator", "unit_code", "value", "deadline"), ("source", "note"),
                      ("indicator", "unit_code", "deadline")),
    "values": Format(("indicator", "unit_code", "period", "numerator", "denominator"), (),
                     ("indicator", "unit_code", "period")),
}

#: Columns holding codes: read as text, never as numbers.
CODE_COLUMNS = {"code", "parent_code", "unit_code", "indicator"}

#: Columns that count things (people, facilities, dossiers): whole numbers only. Values
#: of an indicator counted in money are amounts and may carry decimals (see checks).
COUNT_COLUMNS = {"values": ("numerator", "denominator")}

#: Limits of the indicator fields, from the schema and the pages.
DECIMALS_RANGE = (0, 4)
HEADLINE_RANGE = (1, 8)
SORT_ORDER_RANGE = (0, 9999)
DISPLAY_UNIT_LIMIT = 16
GROUP_LIMIT = 32
