-- The prepared figures of one indicator and period for the units (or facilities) of one level
-- beneath a unit (at any depth, the unit itself when it is of that level) in the hierarchy (via 0:
-- an old unit's crosswalk rows never list it twice), valid at some month of start..end (the period;
-- or 9999-12 for today's units, a new commune before the reform computed from its predecessors):
-- the roll-up, its basis (0 reported, 1 from predecessors exact, 2 estimated) and its progress. A unit nobody
-- beneath reports has no roll-up row (expected 0: "không áp dụng"). One indexed read of the
-- closure, then primary keys.
-- Parameters: indicator, period, level, kind_pattern ('facility:%' for facilities, else ''),
--             parent, start, end
SELECT a.entity_code AS code,
       COALESCE(u.name, f.name) AS name,
       :level AS level,
       COALESCE(u.parent_code, f.unit_code) AS parent_code,
       g.numerator, g.denominator, g.value, COALESCE(g.basis, 0) AS basis,
       COALESCE(g.reported, 0) AS reported, COALESCE(g.expected, 0) AS expected, g.last_month,
       p.target, p.deadline, p.target_source, p.status, p.gap_points, p.gap_units, p.needed_pace,
       p.actual_pace, p.projected_value, p.projected_month, p.flags
FROM entity_ancestors a
LEFT JOIN units u ON u.code = a.entity_code
LEFT JOIN facilities f ON f.code = a.entity_code
LEFT JOIN aggregates g
       ON g.indicator_code = :indicator AND g.period = :period AND g.entity_code = a.entity_code
LEFT JOIN aggregate_progress p
       ON p.indicator_code = :indicator AND p.period = :period AND p.entity_code = a.entity_code
WHERE a.ancestor_code = :parent AND a.via = 0
  AND (a.entity_kind = :level OR a.entity_kind LIKE :kind_pattern)
  AND (a.valid_from IS NULL OR a.valid_from <= :end)
  AND (a.valid_to IS NULL OR a.valid_to >= :start)
ORDER BY a.entity_code
