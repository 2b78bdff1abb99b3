-- The prepared map layer of one level under one parent ('' = the whole level), by primary key.
-- Parameters: level, parent_code
SELECT level, parent_code, tolerance, features, geojson, shapes, bytes FROM boundary_layers
WHERE level = :level AND parent_code = :parent_code
