-- Undo: a load's keys of the small tables leave the history (the rows before are live again).
-- Parameters: load_id
DELETE FROM record_history WHERE load_id = :load_id
