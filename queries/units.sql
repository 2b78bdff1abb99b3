-- Every administrative unit, old and new, with its validity.
SELECT code, name, level, parent_code, valid_from, valid_to FROM units ORDER BY level, code
