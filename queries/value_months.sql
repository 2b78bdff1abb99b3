-- The first and last month with any value, and each indicator's last month.
SELECT indicator_code, MIN(period) AS first_month, MAX(period) AS last_month
FROM kpi_values
GROUP BY indicator_code
