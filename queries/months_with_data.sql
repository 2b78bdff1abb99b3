-- Months that hold any value for an indicator, newest first (period selectors).
-- Parameters: indicator
SELECT DISTINCT period FROM kpi_values WHERE indicator_code = :indicator ORDER BY period DESC
