-- PostgreSQL: remove the stored rows one file's staged rows replace (kpi_value_history_insert kept them
-- first); kpi_values_insert_staged then writes the file's rows. A delete and a plain insert
-- in key order: on PostgreSQL an UPDATE of millions of rows rewrote every index entry in
-- random order and took several times as long.
DELETE FROM kpi_values
WHERE (indicator_code, period, entity_code) IN (
    SELECT indicator_code, period, entity_code FROM staged_values WHERE file_no = :file_no)
