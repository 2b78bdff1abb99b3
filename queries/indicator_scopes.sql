-- Which kinds of entity report which indicator.
SELECT indicator_code, entity_kind FROM indicator_scopes ORDER BY indicator_code, entity_kind
