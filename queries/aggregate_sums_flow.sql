-- Materialise the roll-up of a flow indicator for some of its periods (agg_periods), for every
-- unit and facility with entities expected to report it: each expected entity's months inside
-- the period are summed, then entities are summed: value = sum(numerator) / sum(denominator),
-- never an average of rates. An expected entity that did not report counts in expected only.
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
     AND (a.valid_to IS NULL OR a.valid_to >= p.start_month)
    JOIN indicator_scopes s ON s.indicator_code = :indicator AND s.entity_kind = a.entity_kind
),
per_entity AS (
    SELECT p.label, v.entity_code, SUM(v.numerator) AS numerator, SUM(v.denominator) AS denominator,
           MAX(v.period) AS last_month
    FROM p
    JOIN kpi_values v
      ON v.indicator_code = :indicator AND v.period >= p.start_month AND v.period <= p.end_month
    GROUP BY p.label, v.entity_code
)
SELECT :indicator, e.label, e.ancestor_code, e.ancestor_level, e.kind, e.end_month,
       SUM(pe.numerator * e.share), SUM(pe.denominator * e.share),
       CASE WHEN SUM(pe.denominator * e.share) <> 0
            THEN 100.0 * SUM(pe.numerator * e.share) / SUM(pe.denominator * e.share) END,
       COUNT(pe.entity_code), COUNT(*), MAX(pe.last_month),
       COALESCE(MAX(CASE WHEN pe.entity_code IS NOT NULL THEN e.via END), MAX(e.via))
FROM expected e
LEFT JOIN per_entity pe ON pe.label = e.label AND pe.entity_code = e.entity_code
GROUP BY e.label, e.kind, e.end_month, e.ancestor_code, e.ancestor_level
