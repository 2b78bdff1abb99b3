-- Later loads that wrote again keys of the small tables a load wrote.
-- Parameters: load_id
SELECT later.load_id AS load_id, COUNT(*) AS cells
FROM record_history mine
JOIN record_history later
  ON later.table_name = mine.table_name AND later.row_key = mine.row_key AND later.load_id > mine.load_id
WHERE mine.load_id = :load_id
GROUP BY later.load_id
ORDER BY later.load_id
