-- Insert or replace one boundary; the simplified columns are filled after the whole coverage is in.
-- Parameters: code, level, geometry, simplified, source, imported_at
INSERT INTO boundaries (code, level, geometry, simplified, simplified_detail, source, imported_at)
VALUES (:code, :level, :geometry, :simplified, NULL, :source, :imported_at)
ON CONFLICT (code, level) DO UPDATE SET geometry = excluded.geometry, simplified = excluded.simplified,
    simplified_detail = NULL, source = excluded.source, imported_at = excluded.imported_at
