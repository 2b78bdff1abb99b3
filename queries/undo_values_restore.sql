-- Undo: the rows a load replaced come back, with the load that had written them.
-- Parameters: load_id
INSERT INTO kpi_values (indicator_code, period, entity_code, numerator, denominator, load_id)
SELECT indicator_code, period, entity_code, numerator, denominator, load_id
FROM kpi_value_history
WHERE replaced_by_load_id = :load_id
