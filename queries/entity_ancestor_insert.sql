-- One (entity, ancestor) pair of the closure; the entity itself at depth 0. `share` and `via`:
-- 1 and 0 for the hierarchy; for the crosswalk rows (dashboard/reform.py) the part of the old
-- entity that went under that ancestor, and 1 (whole) or 2 (part: estimated).
INSERT INTO entity_ancestors (entity_code, entity_kind, ancestor_code, ancestor_level, depth, valid_from, valid_to,
                              share, via)
VALUES (:entity_code, :entity_kind, :ancestor_code, :ancestor_level, :depth, :valid_from, :valid_to, :share, :via)
