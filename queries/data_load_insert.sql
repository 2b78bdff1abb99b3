-- The audit row of one file's load; the counts are filled in by data_load_finish.
INSERT INTO data_loads (loaded_at, user_name, kind, source_file, checksum, is_demo)
VALUES (:at, :user, :kind, :file, :checksum, :demo)
RETURNING id
