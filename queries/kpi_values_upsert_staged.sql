-- SQLite: lay one file's staged rows over kpi_values in one statement; a key already stored
-- is replaced (kpi_value_history_insert kept its previous row). In key order, so the indexes
-- fill in sequence. The WHERE clause also settles SQLite's parse of INSERT ... SELECT ...
-- ON CONFLICT. (PostgreSQL deletes and inserts instead: see kpi_values_delete_staged.)
INSERT INTO kpi_values (indicator_code, period, entity_code, numerator, denominator, load_id)
SELECT indicator_code, period, entity_code, numerator, denominator, :load_id
FROM staged_values
WHERE file_no = :file_no
ORDER BY indicator_code, period, entity_code
ON CONFLICT (indicator_code, period, entity_code) DO UPDATE SET numerator = excluded.numerator,
    denominator = excluded.denominator, load_id = excluded.load_id
