-- How many stored values came from the illustrative demo load (the UI labels them while any remain).
SELECT COUNT(*) FROM kpi_values v JOIN data_loads l ON l.id = v.load_id WHERE l.is_demo = :yes
