-- Store the simplified forms of one boundary.
-- Parameters: code, level, simplified, simplified_detail
UPDATE boundaries SET simplified = :simplified, simplified_detail = :simplified_detail
WHERE code = :code AND level = :level
