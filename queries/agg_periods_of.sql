-- The periods of an indicator as the last refresh stored them: a period whose window of months
-- changed (a quarter in progress that gained a month, a month new to the data) is recomputed
-- for every entity, not only for those a load wrote.
-- Parameters: indicator
SELECT label, kind, start_month, end_month FROM agg_periods WHERE indicator_code = :indicator
