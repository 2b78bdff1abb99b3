-- One kind of entity that reports an indicator.
INSERT INTO indicator_scopes (indicator_code, entity_kind) VALUES (:code, :kind)
