-- A saved import mapping replaced under its name.
UPDATE import_mappings SET layout = :layout, mapping = :mapping, updated_at = :at, updated_by = :user WHERE id = :id
