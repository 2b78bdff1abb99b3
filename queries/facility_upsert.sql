-- Insert or update one facility.
INSERT INTO facilities (code, name, type, unit_code, lat, lon)
VALUES (:code, :name, :type, :unit_code, :lat, :lon)
ON CONFLICT (code) DO UPDATE SET name = excluded.name, type = excluded.type,
    unit_code = excluded.unit_code, lat = excluded.lat, lon = excluded.lon
