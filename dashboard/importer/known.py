"""What the database already holds, loaded once per import, and "did you mean" hints.

Rows are checked with set and dict look-ups against these, never one query per row.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Iterable

import pandas as pd
from sqlalchemy import Connection

from .. import sql
from ..i18n import t
from .report import ByLanguage


def _month_of(value) -> str | None:
    if value is None or (isinstance(value, float) and value != value) or value is pd.NaT:
        return None
    if isinstance(value, (date, datetime, pd.Timestamp)):
        return f"{value.year:04d}-{value.month:02d}"
    return str(value)[:7]


@dataclass
class Known:
    units: dict[str, dict]
    facilities: dict[str, dict]
    indicators: dict[str, dict]
    scopes: dict[str, set[str]]
    targets: set[tuple[str, str, str]]
    names: dict[str, str] = field(default_factory=dict)  # code -> name, units and facilities
    links: list[tuple[str, str, str]] = field(default_factory=list)  # (old key, new key, effective 'YYYY-MM-DD')

    @classmethod
    def load(cls, conn: Connection) -> "Known":
        units = sql.fetch_df(conn, "units")
        facilities = sql.fetch_df(conn, "facilities")
        indicators = sql.fetch_df(conn, "indicators")
        scopes = sql.fetch_df(conn, "indicator_scopes")
        targets = sql.fetch_df(conn, "targets")
        unit_map = {str(r.code): {"level": r.level, "parent_code": None if pd.isna(r.parent_code) else str(r.parent_code),
                                  "valid_from": _month_of(r.valid_from), "valid_to": _month_of(r.valid_to)}
                    for r in units.itertuples()}
        fac_map = {str(r.code): {"type": r.type, "unit_code": str(r.unit_code)} for r in facilities.itertuples()}
        ind_map = {str(r["code"]): r for r in indicators.to_dict("records")}
        scope_map: dict[str, set[str]] = {}
        for r in scopes.itertuples():
            scope_map.setdefault(str(r.indicator_code), set()).add(r.entity_kind)
        keys = {(str(r.indicator_code), str(r.scope_code), str(r.deadline)) for r in targets.itertuples()}
        names = {str(r.code): str(r.name) for r in units.itertuples()}
        names.update({str(r.code): str(r.name) for r in facilities.itertuples()})
        links = [(str(r.old_code), str(r.new_code), str(r.effective)[:10])
                 for r in sql.fetch_df(conn, "unit_links").itertuples()]
        return cls(unit_map, fac_map, ind_map, scope_map, keys, names, links)

    _resolver = None

    def resolver(self):
        """:class:`~dashboard.unitkeys.Resolver` over the stored units, built once per import."""
        if self._resolver is None:
            from ..unitkeys import Resolver

            self._resolver = Resolver((k, u["valid_from"], u["valid_to"]) for k, u in self.units.items())
        return self._resolver

    def shared_codes(self) -> set[str]:
        """Official codes more than one stored unit carries (a plain code there needs a month)."""
        return {code for code, spans in self.resolver().by_code.items() if len(spans) > 1}

    def resolve(self, written: str, month: str | None) -> str:
        """The key a unit code written in a file names at `month` (facility codes as they are);
        the text itself when nothing fits (the checks then say why)."""
        if written in self.facilities:
            return written
        resolver = self.resolver()
        key = resolver.resolve(written, month)
        if key is None and month is not None and "@" not in written:
            # Two units of the code hold the month (a new unit stored without its valid_from):
            # the one that ended holds the history before its end.
            held = [k for k in resolver.candidates(written) if resolver.span(k).holds(month)]
            ended = [k for k in held if resolver.span(k).valid_to is not None]
            key = ended[0] if len(ended) == 1 else None
        return key or written

    def successors(self, key: str) -> list[tuple[str, str]]:
        return [(new, eff) for old, new, eff in self.links if old == key]

    def predecessors(self, key: str) -> list[tuple[str, str]]:
        return [(old, eff) for old, new, eff in self.links if new == key]

    _unit_names = None

    def unit_names(self):
        """Units and facilities by name (:class:`~dashboard.importer.names.UnitNames`), built once."""
        if self._unit_names is None:
            from .names import UnitNames

            self._unit_names = UnitNames(self, self.names)
        return self._unit_names

    def entity_kind(self, code: str) -> str | None:
        if code in self.units:
            return self.units[code]["level"]
        if code in self.facilities:
            return f"facility:{self.facilities[code]['type']}"
        return None

    def validity(self, code: str) -> tuple[str | None, str | None]:
        unit = code if code in self.units else self.facilities.get(code, {}).get("unit_code")
        info = self.units.get(unit or "", {})
        return info.get("valid_from"), info.get("valid_to")


class Suggest:
    """'Did you mean' hints for unknown codes, memoised per value."""

    def __init__(self, codes: Iterable[str], list_all: bool = False):
        self.codes = sorted(set(codes))
        self.list_all = list_all
        self.by_stripped: dict[str, list[str]] = {}
        self.by_fold: dict[str, list[str]] = {}
        for c in self.codes:
            self.by_stripped.setdefault(c.lstrip("0"), []).append(c)
            self.by_fold.setdefault(c.casefold(), []).append(c)
        self.memo: dict[tuple[str, bool], ByLanguage] = {}

    def hint(self, code: str, was_number: bool) -> ByLanguage:
        key = (code, was_number)
        if key not in self.memo:
            near = [c for c in self.by_stripped.get(code.lstrip("0"), []) + self.by_fold.get(code.casefold(), [])
                    if c != code]
            near = list(dict.fromkeys(near))[:5]
            hint_vi = hint_en = ""
            if near:
                hint_vi = t("imp_hint_did_you_mean", "vi", codes=", ".join(near))
                hint_en = t("imp_hint_did_you_mean", "en", codes=", ".join(near))
            elif self.list_all and self.codes:
                shown = ", ".join(self.codes[:20]) + (" …" if len(self.codes) > 20 else "")
                hint_vi = t("imp_hint_known", "vi", codes=shown)
                hint_en = t("imp_hint_known", "en", codes=shown)
            if was_number:
                hint_vi += t("imp_hint_number", "vi")
                hint_en += t("imp_hint_number", "en")
            self.memo[key] = ByLanguage(vi=hint_vi, en=hint_en)
        return self.memo[key]
