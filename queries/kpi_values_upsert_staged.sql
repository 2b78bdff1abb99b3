-- Lay one file's staged rows over kpi_values: a key already stored is replaced (its previous
-- row was kept by kpi_value_history_insert). In key order, so the indexes fill in sequence.
-- The WHERE clause also settles SQLite's parse of INSERT ... SELECT ... ON CONFLICT.
INSERT INTO kpi_values (indicator_code, period, entity_code, numerator, denominator, load_id)
SELECT indicator_code, period, entity_code, numerator, denominator, :load_id
FROM staged_values
WHERE file_no = :file_no
ORDER BY indicator_code, period, entity_code
ON CONFLICT (indicator_code, period, entity_code) DO UPDATE SET numerator = excluded.numerator,
    denominator = excluded.denominator, load_id = excluded.load_id
