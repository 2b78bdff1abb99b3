-- Forget the stored roll-up of some periods of an indicator (before they are recomputed).
-- Parameters: indicator, labels (expanding list)
DELETE FROM aggregates WHERE indicator_code = :indicator AND period IN :labels
