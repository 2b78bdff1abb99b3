"""The 2025 reform in the closure: how an old unit's figures reach the units that replaced it.

``store.rebuild_hierarchy`` asks :func:`closure_rows` for the extra ``entity_ancestors`` rows that
carry every old entity (an old commune, its stations, an old district) up through its successors
for the months before the reform, so that a new commune's (zone's, province's) figure for
2024-03 is the sum of its predecessors' numerators and denominators, times their shares. The
aggregate SQL multiplies by ``share`` and stores ``basis`` = the largest ``via`` summed.

Rules (documented in docs/architecture.md, "Series across the reform"):

* An entity's successors are its own links, else those of its nearest ancestor that has links
  (a station follows its old commune).
* Shares: a link's own share when given. Links of one old unit without a share divide what the
  given ones leave, in equal parts (``APPORTION_RULE``); with none given, equal parts.
* An entity reaches every ancestor of each successor (the successor included). Where it reaches
  one ancestor along several links (an old commune split between two new communes of one zone),
  the shares add up (capped at 1).
* ``via`` is 1 (exact: the whole old entity is in that ancestor) when its share there is 1, else
  2 (estimated). Rows of the hierarchy itself have via 0 and always win over a crosswalk row.
* A crosswalk row is valid from the entity's own start to the month before the link takes effect
  (capped by the entity's own end): after the reform the new units report for themselves.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Callable, Iterable

from .periods import add_months, month_of

#: How shares not given in the crosswalk are filled in (shown in the docs and the basis note).
APPORTION_RULE = "equal parts of what the given shares leave, among the successors without one"

#: Depth of crosswalk rows: added to the successor-side depth, so that they never read as
#: hierarchy depths (every reader of depths filters via = 0, this is a second guard).
CROSSWALK_DEPTH = 100
EXACT = 1
ESTIMATED = 2
_EPS = 1e-9


def apportioned(links: Iterable[dict]) -> dict[str, list[tuple[str, float, str]]]:
    """old key -> [(new key, share, effective month)] with every share filled in."""
    by_old: dict[str, list[dict]] = defaultdict(list)
    for link in links:
        by_old[str(link["old_code"])].append(link)
    out: dict[str, list[tuple[str, float, str]]] = {}
    for old, rows in by_old.items():
        given = [float(r["share"]) for r in rows if _given(r.get("share"))]
        missing = [r for r in rows if not _given(r.get("share"))]
        rest = max(0.0, 1.0 - sum(given)) / len(missing) if missing else 0.0
        out[old] = [(str(r["new_code"]), float(r["share"]) if _given(r.get("share")) else rest,
                     month_of(r["effective"])) for r in rows]
    return out


def _given(share) -> bool:
    return share is not None and share == share  # None and NaN are "not given"


def closure_rows(entities: Iterable[tuple[str, str, str | None, str | None, list[str]]],
                 links: Iterable[dict], chain: Callable[[str], list[str]], level: dict[str, str],
                 hierarchy_pairs: set[tuple[str, str]]) -> list[dict]:
    """The crosswalk rows of the closure.

    `entities` are (code, kind, valid_from, valid_to, own chain from itself up, as unit keys —
    a facility's chain starts at its unit); `chain(key)` is a unit's chain from itself up."""
    successors = apportioned(links)
    rows = []
    for code, kind, valid_from, valid_to, own_chain in entities:
        targets = next((successors[k] for k in own_chain if k in successors), None)
        if not targets:
            continue
        reach: dict[str, list] = {}  # ancestor -> [share, depth, first effective month]
        for new, share, effective in targets:
            if share <= _EPS:
                continue
            for depth, anc in enumerate(chain(new)):
                if (code, anc) in hierarchy_pairs or anc not in level:
                    continue
                got = reach.setdefault(anc, [0.0, CROSSWALK_DEPTH + depth, effective])
                got[0] += share
                got[2] = min(got[2], effective) if got[2] and effective else (got[2] or effective)
        for anc, (share, depth, effective) in reach.items():
            until = add_months(effective, -1) if effective else None
            vt = min(m for m in (valid_to, until) if m) if (valid_to or until) else None
            if valid_from and vt and vt < valid_from:
                continue
            share = min(share, 1.0)
            rows.append({"entity_code": code, "entity_kind": kind, "ancestor_code": anc,
                         "ancestor_level": level[anc], "depth": depth, "valid_from": valid_from,
                         "valid_to": vt, "share": share,
                         "via": EXACT if share >= 1.0 - 1e-6 else ESTIMATED})
    return rows
