-- Keep every stored row one file's rows are about to replace, with the load replacing it.
INSERT INTO kpi_value_history (replaced_by_load_id, indicator_code, period, entity_code, numerator,
                               denominator, load_id)
SELECT :load_id, v.indicator_code, v.period, v.entity_code, v.numerator, v.denominator, v.load_id
FROM staged_values s
JOIN kpi_values v
  ON v.indicator_code = s.indicator_code AND v.period = s.period AND v.entity_code = s.entity_code
WHERE s.file_no = :file_no
