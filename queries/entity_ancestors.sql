-- The closure of the hierarchy (each entity with each ancestor, itself at depth 0): breadcrumbs,
-- scope and the targets that apply. Only the hierarchy itself (via 0): the crosswalk rows carry
-- figures across the reform, they do not make a new unit an old unit's parent.
SELECT entity_code, entity_kind, ancestor_code, ancestor_level, depth FROM entity_ancestors WHERE via = 0
