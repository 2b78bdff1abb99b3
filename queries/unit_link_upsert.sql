-- Insert or update one crosswalk link (old unit → new unit from `effective`).
INSERT INTO unit_links (old_code, new_code, effective, share, basis)
VALUES (:old_code, :new_code, :effective, :share, :basis)
ON CONFLICT (old_code, new_code) DO UPDATE SET effective = excluded.effective, share = excluded.share,
    basis = excluded.basis
