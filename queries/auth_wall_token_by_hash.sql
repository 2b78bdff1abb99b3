-- A wall-screen token by the SHA-256 of its text (the token itself is never stored).
SELECT id, name, created_at, created_by, revoked_at, revoked_by FROM wall_tokens WHERE token_sha256 = :digest
