-- The prepared map layers: how many per level, their tolerances and sizes.
SELECT level, COUNT(*) AS layers, MIN(tolerance) AS finest, MAX(tolerance) AS coarsest,
       SUM(bytes) AS bytes, MAX(bytes) AS largest
FROM boundary_layers GROUP BY level ORDER BY level
