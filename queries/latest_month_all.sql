-- The most recent month with any value, over all indicators: the latest month period listed
-- for any indicator at load time (agg_periods ends at each indicator's last month with a
-- value). A MAX over kpi_values would read its whole index: 70 ms at national scale.
SELECT MAX(end_month) AS period FROM agg_periods WHERE kind = 'month'
