-- Rows left by an earlier import on this connection (SQLite keeps a temporary table created
-- outside a transaction).
DELETE FROM staged_values
