-- Materialise the roll-up of a stock indicator for some of its periods (agg_periods), for every
-- unit and facility with entities expected to report it: each expected entity's LATEST month
-- inside the period, then summed: value = sum(numerator) / sum(denominator). An expected entity
-- that did not report adds nothing and counts in expected, not in reported (missing is not zero).
-- Parameters: indicator, labels (expanding list of period labels)
INSERT INTO aggregates (indicator_code, period, entity_code, level, kind, end_month, numerator, denominator,
                        value, reported, expected, last_month)
WITH p AS (
    SELECT label, kind, start_month, end_month
    FROM agg_periods
    WHERE indicator_code = :indicator AND label IN :labels
),
expected AS (
    SELECT p.label, p.kind, p.end_month, a.entity_code, a.ancestor_code, a.ancestor_level
    FROM p
    JOIN entity_ancestors a
      ON (a.valid_from IS NULL OR a.valid_from <= p.end_month)
     AND (a.valid_to IS NULL OR a.valid_to >= p.start_month)
    JOIN indicator_scopes s ON s.indicator_code = :indicator AND s.entity_kind = a.entity_kind
),
latest AS (
    SELECT p.label, v.entity_code, MAX(v.period) AS period
    FROM p
    JOIN kpi_values v
      ON v.indicator_code = :indicator AND v.period >= p.start_month AND v.period <= p.end_month
    GROUP BY p.label, v.entity_code
)
SELECT :indicator, e.label, e.ancestor_code, e.ancestor_level, e.kind, e.end_month,
       SUM(v.numerator), SUM(v.denominator),
       CASE WHEN SUM(v.denominator) <> 0 THEN 100.0 * SUM(v.numerator) / SUM(v.denominator) END,
       COUNT(l.entity_code), COUNT(*), MAX(l.period)
FROM expected e
LEFT JOIN latest l ON l.label = e.label AND l.entity_code = e.entity_code
LEFT JOIN kpi_values v ON v.indicator_code = :indicator AND v.period = l.period AND v.entity_code = l.entity_code
GROUP BY e.label, e.kind, e.end_month, e.ancestor_code, e.ancestor_level
