-- Every wall-screen token, newest first, for the admin page and `dashboard wall-tokens list`.
SELECT id, name, created_at, created_by, revoked_at, revoked_by FROM wall_tokens ORDER BY id DESC
