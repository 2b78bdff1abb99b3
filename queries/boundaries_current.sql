-- Full-detail boundaries of every level with their unit's parent, for preparing the map layers.
-- Only units valid today (no valid_to) are drawn.
SELECT b.code, b.level, b.geometry
FROM boundaries b JOIN units u ON u.code = b.code AND u.level = b.level
WHERE u.valid_to IS NULL
ORDER BY b.level, b.code
