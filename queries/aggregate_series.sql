-- One unit's or facility's prepared monthly figures between two months.
-- Parameters: indicator, code, start, end
SELECT period, numerator, denominator, value, reported, expected, basis
FROM aggregates
WHERE indicator_code = :indicator AND entity_code = :code AND kind = 'month'
  AND period >= :start AND period <= :end
ORDER BY period
