-- One saved import mapping (its YAML text) by id.
SELECT id, name, layout, mapping FROM import_mappings WHERE id = :id
