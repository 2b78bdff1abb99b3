-- Insert or update one administrative unit (parents are written before their children).
INSERT INTO units (code, name, level, parent_code, valid_from, valid_to)
VALUES (:code, :name, :level, :parent_code, :valid_from, :valid_to)
ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level,
    parent_code = excluded.parent_code, valid_from = excluded.valid_from, valid_to = excluded.valid_to
