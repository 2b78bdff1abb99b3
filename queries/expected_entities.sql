-- The entities expected to report an indicator beneath one unit (or the unit itself),
-- with their validity, for completeness and the "not reported" lists.
-- Parameters: indicator, code
SELECT a.entity_code, a.entity_kind, a.valid_from, a.valid_to
FROM entity_ancestors a
JOIN indicator_scopes s ON s.indicator_code = :indicator AND s.entity_kind = a.entity_kind
WHERE a.ancestor_code = :code
ORDER BY a.entity_code
