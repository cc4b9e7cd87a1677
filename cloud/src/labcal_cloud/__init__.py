"""LabCal cloud: ingest, storage, engine, scheduler, API and portal."""
