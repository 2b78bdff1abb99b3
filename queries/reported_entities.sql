-- Entities with at least one value for an indicator inside a window of months.
-- Parameters: indicator, start, end
SELECT DISTINCT entity_code
FROM kpi_values
WHERE indicator_code = :indicator AND period >= :start AND period <= :end
