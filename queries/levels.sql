-- The levels of the hierarchy, top first.
SELECT code, depth, name_vi, name_en FROM levels ORDER BY depth, code
