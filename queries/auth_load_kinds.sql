-- How many data loads come from the illustrative demo and how many from the department.
SELECT
  (SELECT COUNT(*) FROM data_loads WHERE is_demo = :yes) AS demo_loads,
  (SELECT COUNT(*) FROM data_loads WHERE is_demo = :no) AS other_loads
