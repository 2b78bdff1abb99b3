-- One unit's or facility's prepared monthly figures between two months, with each month's basis
-- (0 reported, 1 from predecessors exact, 2 estimated).
-- Parameters: indicator, code, start, end
SELECT period, numerator, denominator, value, reported, expected, basis
FROM aggregates
WHERE indicator_code = :indicator AND entity_code = :code AND kind = 'month'
  AND period >= :start AND period <= :end
ORDER BY period
