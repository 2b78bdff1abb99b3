-- The periods of an indicator are listed anew on each refresh.
-- Parameters: indicator
DELETE FROM agg_periods WHERE indicator_code = :indicator
