COPY staged_values (file_no, indicator_code, period, entity_code, numerator, denominator) FROM STDIN
