-- The (entity, month) pairs already stored for one indicator in a window of months:
-- an import counts which of its rows will replace a stored one.
-- Parameters: indicator, start, end ('YYYY-MM')
SELECT entity_code, period
FROM kpi_values
WHERE indicator_code = :indicator AND period >= :start AND period <= :end
