-- Every facility with the unit it belongs to.
SELECT code, name, type, unit_code, lat, lon FROM facilities ORDER BY code
