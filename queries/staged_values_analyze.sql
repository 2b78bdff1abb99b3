-- PostgreSQL never analyses a temporary table by itself; without statistics it would plan
-- the joins below for a table of one row.
ANALYZE staged_values
