-- One staged value row (SQLite; PostgreSQL uses staged_values_copy).
INSERT INTO staged_values (file_no, indicator_code, period, entity_code, numerator, denominator)
VALUES (:file_no, :indicator_code, :period, :entity_code, :numerator, :denominator)
