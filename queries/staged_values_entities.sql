-- The (indicator, entity) pairs one staged file writes: with staged_values_months, what the load
-- touched, so the stored aggregates are refreshed for those entities' ancestors only.
-- Parameters: file_no
SELECT DISTINCT indicator_code, entity_code FROM staged_values WHERE file_no = :file_no
