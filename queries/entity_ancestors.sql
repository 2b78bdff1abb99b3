-- The whole closure of the hierarchy (each entity with each ancestor, itself at depth 0).
SELECT entity_code, entity_kind, ancestor_code, ancestor_level, depth FROM entity_ancestors
