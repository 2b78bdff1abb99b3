-- PostgreSQL, at the end of every load: fresh planner statistics for the tables a load writes.
-- Until autovacuum gets to them the planner takes a freshly filled table for an empty one and
-- picks nested loops (one roll-up took 74 s instead of 69 ms).
ANALYZE units, facilities, indicators, indicator_scopes, targets, data_loads, kpi_values, kpi_value_history,
        entity_ancestors, record_history
