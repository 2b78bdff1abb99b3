-- The most recent account and administration events.
SELECT id, at, actor, action, subject, detail FROM audit_log ORDER BY id DESC LIMIT :limit
