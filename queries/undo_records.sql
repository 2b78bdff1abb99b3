-- The keys of the small tables a load wrote, with the row before (NULL: the load added it).
-- Parameters: load_id
SELECT id, table_name, row_key, previous FROM record_history WHERE load_id = :load_id ORDER BY id
