-- One prepared map layer: the FeatureCollection of a level's units under one parent.
-- Parameters: level, parent_code, tolerance, features, geojson, shapes, bytes, prepared_at
INSERT INTO boundary_layers (level, parent_code, tolerance, features, geojson, shapes, bytes, prepared_at)
VALUES (:level, :parent_code, :tolerance, :features, :geojson, :shapes, :bytes, :prepared_at)
