-- Undo: the cells a load wrote go.
-- Parameters: load_id
DELETE FROM kpi_values WHERE load_id = :load_id
