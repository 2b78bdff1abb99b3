-- Roll a stock indicator up to every unit of one level over a window of months.
-- Stock: each expected entity contributes its LATEST reported month inside the
-- window (people with an HSSK, hospitals running EMR are counts at a date, never
-- summed over months), then entities are summed: sum(numerator) / sum(denominator).
-- Old entities count under their successors through the crosswalk rows, times their share.
-- Parameters: indicator, start, end ('YYYY-MM'), level
WITH expected AS (
    SELECT a.entity_code, a.ancestor_code, a.share, a.via
    FROM entity_ancestors a
    JOIN indicator_scopes s
      ON s.indicator_code = :indicator AND s.entity_kind = a.entity_kind
    WHERE a.ancestor_level = :level
      AND (a.valid_from IS NULL OR a.valid_from <= :end)
      AND (a.valid_to IS NULL OR a.valid_to >= :end)  -- a stock counts who exists at the end
),
latest AS (
    SELECT entity_code, MAX(period) AS period
    FROM kpi_values
    WHERE indicator_code = :indicator AND period >= :start AND period <= :end
    GROUP BY entity_code
),
per_entity AS (
    SELECT v.entity_code, v.numerator, v.denominator, v.period AS last_month
    FROM kpi_values v
    JOIN latest l ON l.entity_code = v.entity_code AND l.period = v.period
    WHERE v.indicator_code = :indicator
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
