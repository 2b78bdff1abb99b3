-- The value rows of one import, checked, before they are laid over kpi_values. A temporary
-- table: private to this connection, gone with it. file_no is the file's place in the import.
CREATE TEMPORARY TABLE IF NOT EXISTS staged_values (
    file_no INTEGER NOT NULL,
    indicator_code VARCHAR(32) NOT NULL,
    period VARCHAR(7) NOT NULL,
    entity_code VARCHAR(32) NOT NULL,
    numerator DOUBLE PRECISION NOT NULL,
    denominator DOUBLE PRECISION NOT NULL
)
