-- The most recent month with any value for an indicator (the "Số liệu đến" stamp).
-- Parameters: indicator
SELECT MAX(period) AS period FROM kpi_values WHERE indicator_code = :indicator
