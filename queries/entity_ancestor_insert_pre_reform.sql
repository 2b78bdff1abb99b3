-- entity_ancestor_insert for a schema from before 0009_reform (a database being upgraded step by
-- step still rebuilds its closure on the way): no share, no via.
INSERT INTO entity_ancestors (entity_code, entity_kind, ancestor_code, ancestor_level, depth, valid_from, valid_to)
VALUES (:entity_code, :entity_kind, :ancestor_code, :ancestor_level, :depth, :valid_from, :valid_to)
