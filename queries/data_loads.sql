-- The audit of data loads, newest first.
SELECT id, loaded_at, user_name, kind, source_file, rows_added, rows_replaced, rows_total, checksum, is_demo
FROM data_loads
ORDER BY id DESC
