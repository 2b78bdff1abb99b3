-- Forget the stored progress of some periods of an indicator (before it is recomputed).
-- Parameters: indicator, labels (expanding list)
DELETE FROM aggregate_progress WHERE indicator_code = :indicator AND period IN :labels
