-- The (indicator, month) pairs one staged file writes: what the load touched, so the stored
-- aggregates are refreshed for those periods only.
-- Parameters: file_no
SELECT DISTINCT indicator_code, period FROM staged_values WHERE file_no = :file_no
