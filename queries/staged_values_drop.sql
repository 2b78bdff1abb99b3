DROP TABLE staged_values
