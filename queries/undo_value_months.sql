-- The indicator × months an undo of a values load changes: its live rows and the rows it replaced.
-- Parameters: load_id
SELECT indicator_code, period FROM kpi_values WHERE load_id = :load_id
UNION
SELECT indicator_code, period FROM kpi_value_history WHERE replaced_by_load_id = :load_id
