-- Later loads that replaced cells a load wrote (its rows kept in history under their id), with
-- how many cells each replaced.
-- Parameters: load_id
SELECT replaced_by_load_id AS load_id, COUNT(*) AS cells
FROM kpi_value_history
WHERE load_id = :load_id
GROUP BY replaced_by_load_id
ORDER BY replaced_by_load_id
