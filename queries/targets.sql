-- Every target row with its scope and source.
SELECT id, indicator_code, scope_code, value, deadline, source, note
FROM targets
ORDER BY indicator_code, scope_code, deadline
