-- One saved import mapping by name (saving under a name already used replaces it).
SELECT id FROM import_mappings WHERE name = :mapping_name
