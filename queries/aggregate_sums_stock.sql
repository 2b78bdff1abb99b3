-- Materialise the roll-up of a stock indicator for some of its periods (agg_periods), for every
-- unit and facility with entities expected to report it: each expected entity's LATEST month
-- inside the period, then summed: value = sum(numerator) / sum(denominator). An expected entity
-- that did not report adds nothing and counts in expected, not in reported (missing is not zero).
-- A stock is a count at the period's end, so the entities expected are those valid in its END
-- month: a year across the 2025 reform counts the new communes, never their predecessors too.
-- An old entity counts under its successors (crosswalk rows of the closure) times its share;
-- basis is the largest via among those summed (0 reported, 1 from whole predecessors, 2
-- estimated); where nobody reported, among those expected.
-- Parameters: indicator, labels (expanding list of period labels)
INSERT INTO aggregates (indicator_code, period, entity_code, level, kind, end_month, numerator, denominator,
                        value, reported, expected, last_month, basis)
WITH p AS (
    SELECT label, kind, start_month, end_month
    FROM agg_periods
    WHERE indicator_code = :indicator AND label IN :labels
),
expected AS (
    SELECT p.label, p.kind, p.end_month, a.entity_code, a.ancestor_code, a.ancestor_level, a.share, a.via
    FROM p
    JOIN entity_ancestors a
      ON (a.valid_from IS NULL OR a.valid_from <= p.end_month)
     AND (a.valid_to IS NULL OR a.valid_to >= p.end_month)
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
       SUM(v.numerator * e.share), SUM(v.denominator * e.share),
       CASE WHEN SUM(v.denominator * e.share) <> 0
            THEN 100.0 * SUM(v.numerator * e.share) / SUM(v.denominator * e.share) END,
       COUNT(l.entity_code), COUNT(*), MAX(l.period),
       COALESCE(MAX(CASE WHEN l.entity_code IS NOT NULL THEN e.via END), MAX(e.via))
FROM expected e
LEFT JOIN latest l ON l.label = e.label AND l.entity_code = e.entity_code
LEFT JOIN kpi_values v ON v.indicator_code = :indicator AND v.period = l.period AND v.entity_code = l.entity_code
GROUP BY e.label, e.kind, e.end_month, e.ancestor_code, e.ancestor_level
