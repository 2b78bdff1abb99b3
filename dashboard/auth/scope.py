"""Which units a reader may see: everything, or a few root units and everything beneath them.

Access to a unit implies everything below it (as DHIS2's data-view units do): a zone head
sees the zone, its communes and their facilities. The zone's ancestors (the province) are
*context*: a province total may stand next to the zone's own figure, but the province is
never broken down for them, so another zone's figures never reach them.

A ``Scope`` is a plain value. It reads the hierarchy through a closure, a mapping
``{entity code: [(ancestor code, level), ...]}`` from the entity itself up to the province
(the ``entity_ancestors`` table, as ``dashboard.figures.ancestry()`` returns it). Pass one
in (tests, a request that already holds it) or let the scope read ``figures.ancestry()``
when it needs it. Nothing here knows about requests or users: ``dashboard.auth.access``
builds the scope of the logged-in user.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping

import pandas as pd

Closure = Mapping[str, list[tuple[str, str]]]


def _figures_closure() -> Closure:
    from .. import figures

    return figures.ancestry()


@dataclass(frozen=True)
class Scope:
    #: None: everything. Otherwise the units whose subtrees are visible (empty: nothing).
    roots: frozenset[str] | None = None
    closure: Callable[[], Closure] = field(default=_figures_closure, compare=False, repr=False)

    # --- construction ---------------------------------------------------------------------

    @classmethod
    def everything(cls) -> "Scope":
        return cls(None)

    @classmethod
    def nothing(cls) -> "Scope":
        return cls(frozenset())

    @classmethod
    def of_units(cls, codes: Iterable[str], closure: Callable[[], Closure] | None = None) -> "Scope":
        roots = frozenset(str(c) for c in codes if c)
        return cls(roots, closure) if closure is not None else cls(roots)

    # --- questions ------------------------------------------------------------------------

    @property
    def is_everything(self) -> bool:
        return self.roots is None

    @property
    def key(self) -> str:
        """What a cached view is keyed on: two readers with the same scope share it."""
        if self.roots is None:
            return "*"
        return "units:" + ",".join(sorted(self.roots))

    @property
    def home(self) -> str | None:
        """The one root unit of a single-unit scope (where a unit head lands), else None."""
        if self.roots is not None and len(self.roots) == 1:
            return next(iter(self.roots))
        return None

    def allows(self, code: str | None) -> bool:
        """True when the unit or facility is one of the roots or lies beneath one."""
        if self.roots is None:
            return True
        if not code or not self.roots:
            return False
        return self._allows(str(code), self.closure())

    def is_context(self, code: str | None) -> bool:
        """True for a strict ancestor of a root: shown as context (its total next to the
        reader's own figure), never broken down into units outside the scope."""
        if not self.roots or not code:
            return False
        closure = self.closure()
        code = str(code)
        if self._allows(code, closure):
            return False
        return code in self._context_codes(closure)

    def visible(self, code: str | None) -> bool:
        """Allowed, or context."""
        return self.allows(code) or self.is_context(code)

    def filter(self, frame: pd.DataFrame, column: str = "code", context: bool = False) -> pd.DataFrame:
        """The rows of a figure frame (one row per unit, codes in `column`) the reader may
        see; with `context`, also the rows of the roots' ancestors (a province total)."""
        if self.roots is None or frame.empty:
            return frame
        if not self.roots:
            return frame.iloc[0:0]
        closure = self.closure()
        codes = frame[column].astype(str)
        keep = codes.map(lambda c: self._allows(c, closure))
        if context:
            keep = keep | codes.isin(self._context_codes(closure))
        return frame[keep.to_numpy(dtype=bool)]

    # --- helpers --------------------------------------------------------------------------

    def _allows(self, code: str, closure: Closure) -> bool:
        assert self.roots is not None
        if code in self.roots:
            return True
        return any(ancestor in self.roots for ancestor, _level in closure.get(code, ()))

    def _context_codes(self, closure: Closure) -> set[str]:
        assert self.roots is not None
        out: set[str] = set()
        for root in self.roots:
            out.update(ancestor for ancestor, _level in closure.get(root, ()) if ancestor != root)
        return out - set(self.roots)
