-- The simplified boundaries of one level, as stored once per import for the maps.
-- Parameters: level
SELECT code, simplified, simplified_detail FROM boundaries WHERE level = :level ORDER BY code
