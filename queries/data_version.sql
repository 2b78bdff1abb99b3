-- The number every write bumps; cached results are keyed on it.
SELECT version FROM data_version WHERE id = 1
