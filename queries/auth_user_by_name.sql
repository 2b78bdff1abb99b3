-- One account by its (normalised, lower-case) user name, with its password hash.
SELECT id, username, display_name, password_hash, role, unit_code, session_version, created_at, last_login_at
FROM users WHERE username = :username
