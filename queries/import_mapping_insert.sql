-- A new saved import mapping.
INSERT INTO import_mappings (name, layout, mapping, created_at, created_by, updated_at, updated_by)
VALUES (:name, :layout, :mapping, :at, :user, :at, :user)
