-- One period of an indicator and its window of months.
-- Parameters: indicator, label, kind, start_month, end_month
INSERT INTO agg_periods (indicator_code, label, kind, start_month, end_month)
VALUES (:indicator, :label, :kind, :start_month, :end_month)
