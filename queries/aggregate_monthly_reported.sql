-- Every month of an indicator where something was reported, for every entity, from a month on:
-- the histories that paces and projections read (a refresh of recent periods needs only the
-- HISTORY_MONTHS before the earliest of them).
-- Parameters: indicator, since ('YYYY-MM')
SELECT entity_code, period, numerator, denominator
FROM aggregates
WHERE indicator_code = :indicator AND kind = 'month' AND reported > 0 AND period >= :since
ORDER BY entity_code, period
