"""The reminder scheduler: stores planned steps, claims due ones exactly once across replicas
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL), delivers them through channels and records every
attempt. Composition root: :mod:`labcal_cloud.scheduler.commands`."""
