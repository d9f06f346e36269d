"""Assessment (giám định): the rule catalogue, its engines (DuckDB, PySpark), the reference evaluator,
results, reports and stored runs."""
