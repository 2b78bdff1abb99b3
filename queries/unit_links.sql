-- The crosswalk: every old unit → new unit link, with its effective date and share.
SELECT old_code, new_code, effective, share, basis FROM unit_links ORDER BY old_code, new_code
