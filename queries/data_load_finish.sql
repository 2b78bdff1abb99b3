-- How many rows one load added and replaced.
UPDATE data_loads SET rows_added = :added, rows_replaced = :replaced, rows_total = :total WHERE id = :id
