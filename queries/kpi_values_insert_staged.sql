-- Write one file's staged rows (those they replace were deleted just before), in key order
-- so that the indexes fill in sequence.
INSERT INTO kpi_values (indicator_code, period, entity_code, numerator, denominator, load_id)
SELECT indicator_code, period, entity_code, numerator, denominator, :load_id
FROM staged_values
WHERE file_no = :file_no
ORDER BY indicator_code, period, entity_code
