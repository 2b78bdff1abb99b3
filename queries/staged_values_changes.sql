-- Per file of the import: rows staged, and how many of them replace a stored row. The one
-- count of added and replaced rows, for a dry run and for the audit alike.
SELECT s.file_no, COUNT(*) AS staged, COUNT(v.indicator_code) AS replaced
FROM staged_values s
LEFT JOIN kpi_values v
  ON v.indicator_code = s.indicator_code AND v.period = s.period AND v.entity_code = s.entity_code
GROUP BY s.file_no
