"""Reports, charts, KPIs and service planning (pure computations plus their SQL queries)."""
