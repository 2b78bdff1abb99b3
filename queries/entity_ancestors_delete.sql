-- The closure is derived: it is rebuilt whole after any hierarchy change.
DELETE FROM entity_ancestors
