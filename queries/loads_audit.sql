-- Every load for the loads page and `dashboard loads list`, newest first, with its undo if any.
SELECT d.id, d.loaded_at, d.user_name, d.kind, d.source_file, d.rows_added, d.rows_replaced, d.rows_total,
       d.checksum, d.is_demo, u.at AS undone_at, u.actor AS undone_by
FROM data_loads d
LEFT JOIN audit_log u
  ON u.action = 'load_undo' AND u.subject = 'load:' || CAST(d.id AS VARCHAR(12))
ORDER BY d.id DESC
