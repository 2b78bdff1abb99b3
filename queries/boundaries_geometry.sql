-- Full-detail boundaries of one level (GeoJSON text), for building zones and outlines.
-- Parameters: level
SELECT code, level, geometry, source FROM boundaries WHERE level = :level ORDER BY code
