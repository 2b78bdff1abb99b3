-- The stored roll-up of some periods of an indicator: what progress is computed on.
-- Parameters: indicator, labels (expanding list)
SELECT entity_code, period, kind, end_month, numerator, denominator, value, reported
FROM aggregates
WHERE indicator_code = :indicator AND period IN :labels
