-- One (entity, ancestor) pair of the closure; the entity itself at depth 0.
INSERT INTO entity_ancestors (entity_code, entity_kind, ancestor_code, ancestor_level, depth, valid_from, valid_to)
VALUES (:entity_code, :entity_kind, :ancestor_code, :ancestor_level, :depth, :valid_from, :valid_to)
