-- Month-by-month figures of every unit of one level (or every facility) over a window:
-- the input of paces and projections. Within one month stock and flow agree.
-- The values drive the join (CROSS JOIN fixes that order in SQLite; PostgreSQL plans
-- it freely): each value row then finds its ancestor through the closure's primary key.
-- Old entities count under their successors through the crosswalk rows, times their share.
-- Parameters: indicator, level, start, end
SELECT a.ancestor_code AS code,
       v.period AS period,
       SUM(v.numerator * a.share) AS numerator,
       SUM(v.denominator * a.share) AS denominator,
       COUNT(*) AS reported,
       MAX(a.via) AS basis
FROM kpi_values v
CROSS JOIN entity_ancestors a
JOIN indicator_scopes s ON s.indicator_code = v.indicator_code AND s.entity_kind = a.entity_kind
WHERE v.indicator_code = :indicator AND v.period >= :start AND v.period <= :end
  AND a.entity_code = v.entity_code AND a.ancestor_level = :level
GROUP BY a.ancestor_code, v.period
ORDER BY a.ancestor_code, v.period
