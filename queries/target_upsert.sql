-- Insert or update one target, keyed by (indicator, scope, deadline).
INSERT INTO targets (indicator_code, scope_code, value, deadline, source, note)
VALUES (:indicator_code, :scope_code, :value, :deadline, :source, :note)
ON CONFLICT (indicator_code, scope_code, deadline) DO UPDATE SET value = excluded.value,
    source = excluded.source, note = excluded.note
