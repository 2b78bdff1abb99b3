-- Roll a flow indicator up to every unit of one level over a window of months.
-- Flow: each expected entity's months are summed, then entities are summed:
-- value = sum(numerator) / sum(denominator), never an average of rates.
-- Only entities of the kinds expected to report the indicator count, so a figure
-- reported at two levels is never counted twice.
-- Old entities count under their successors through the crosswalk rows, times their share.
-- Parameters: indicator, start, end ('YYYY-MM'), level
WITH expected AS (
    SELECT a.entity_code, a.ancestor_code, a.share, a.via
    FROM entity_ancestors a
    JOIN indicator_scopes s
      ON s.indicator_code = :indicator AND s.entity_kind = a.entity_kind
    WHERE a.ancestor_level = :level
      AND (a.valid_from IS NULL OR a.valid_from <= :end)
      AND (a.valid_to IS NULL OR a.valid_to >= :start)
),
per_entity AS (
    SELECT v.entity_code,
           SUM(v.numerator) AS numerator,
           SUM(v.denominator) AS denominator,
           COUNT(*) AS months,
           MAX(v.period) AS last_month
    FROM kpi_values v
    WHERE v.indicator_code = :indicator AND v.period >= :start AND v.period <= :end
    GROUP BY v.entity_code
)
SELECT e.ancestor_code AS code,
       SUM(p.numerator * e.share) AS numerator,
       SUM(p.denominator * e.share) AS denominator,
       COUNT(p.entity_code) AS reported,
       COUNT(*) AS expected,
       MAX(p.last_month) AS last_month,
       MAX(e.via) AS basis
FROM expected e
LEFT JOIN per_entity p ON p.entity_code = e.entity_code
GROUP BY e.ancestor_code
