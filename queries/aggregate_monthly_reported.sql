-- Every month of an indicator where something was reported, for every entity: the histories
-- that paces and projections read.
-- Parameters: indicator
SELECT entity_code, period, numerator, denominator
FROM aggregates
WHERE indicator_code = :indicator AND kind = 'month' AND reported > 0
ORDER BY entity_code, period
