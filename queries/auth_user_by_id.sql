-- One account by id (the session carries the id and the session version).
SELECT id, username, display_name, password_hash, role, unit_code, session_version, created_at, last_login_at
FROM users WHERE id = :id
