"""The pipeline: stored run → calibration record → signed certificate → due state → forecast →
planned reminders (delivery is the scheduler's). One loop, the same on SQLite and PostgreSQL,
woken by the database when something the pipeline cares about was committed."""
