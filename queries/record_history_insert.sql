-- A key of a small table that a load wrote: the row before as JSON, NULL when the load added it.
INSERT INTO record_history (load_id, table_name, row_key, previous)
VALUES (:load_id, :table_name, :row_key, :previous)
