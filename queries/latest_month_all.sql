-- The most recent month with any value, over all indicators.
SELECT MAX(period) AS period FROM kpi_values
