"""The reminder scheduler: plans due reminders (``due_planning``, ``scheduler plan``), stores
planned steps once, claims due ones exactly once across replicas (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, SQLite's writer lock on SQLite), delivers them through channels and records every
attempt; the webhook outbox is the engine's event publisher (``event_outbox``). One adapter per
store for both backends, on the SQL gateway.
Composition root: :mod:`labcal_cloud.scheduler.commands`."""
