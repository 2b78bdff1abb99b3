-- The most recent month with any value, read from the values themselves: what
-- latest_month_all answers before the aggregates are filled (just after an upgrade).
SELECT MAX(period) AS period FROM kpi_values
