-- Every account, for `dashboard users list`.
SELECT id, username, display_name, password_hash, role, unit_code, session_version, created_at, last_login_at
FROM users ORDER BY username
