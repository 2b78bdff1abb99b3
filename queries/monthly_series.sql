-- Month-by-month figure of one unit or facility (any level): the sums over the
-- expected reporting entities beneath it. Within one month stock and flow agree.
-- Old entities count under their successors through the crosswalk rows, times their share.
-- Parameters: indicator, code, start, end
SELECT v.period AS period,
       SUM(v.numerator * a.share) AS numerator,
       SUM(v.denominator * a.share) AS denominator,
       COUNT(*) AS reported,
       MAX(a.via) AS basis
FROM kpi_values v
JOIN entity_ancestors a ON a.entity_code = v.entity_code AND a.ancestor_code = :code
JOIN indicator_scopes s ON s.indicator_code = v.indicator_code AND s.entity_kind = a.entity_kind
WHERE v.indicator_code = :indicator AND v.period >= :start AND v.period <= :end
GROUP BY v.period
ORDER BY v.period
