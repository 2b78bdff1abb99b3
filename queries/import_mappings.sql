-- The saved import mappings, by name, for the upload page's list.
SELECT id, name, layout, updated_at, updated_by FROM import_mappings ORDER BY name
