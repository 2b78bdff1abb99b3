-- Forget the stored progress of some entities in some periods of an indicator (before it is
-- recomputed for just those).
-- Parameters: indicator, labels (expanding list), entities (expanding list)
DELETE FROM aggregate_progress
WHERE indicator_code = :indicator AND period IN :labels AND entity_code IN :entities
