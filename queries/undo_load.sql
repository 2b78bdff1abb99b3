-- One load as the undo sees it: its audit row, and whether it was undone already (audit_log).
-- Parameters: load_id
SELECT d.id, d.kind, d.source_file, d.user_name, d.loaded_at, d.is_demo, d.rows_added, d.rows_replaced,
       (SELECT MIN(a.at) FROM audit_log a WHERE a.action = 'load_undo' AND a.subject = 'load:' || CAST(d.id AS VARCHAR(12))) AS undone_at
FROM data_loads d
WHERE d.id = :load_id
