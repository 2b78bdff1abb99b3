-- Undo: the restored rows leave the history (they are live again).
-- Parameters: load_id
DELETE FROM kpi_value_history WHERE replaced_by_load_id = :load_id
