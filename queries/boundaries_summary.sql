-- What is stored, per level and import.
SELECT level, source, COUNT(*) AS features, MAX(imported_at) AS imported_at
FROM boundaries GROUP BY level, source ORDER BY level, source
