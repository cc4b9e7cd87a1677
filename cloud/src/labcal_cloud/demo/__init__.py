"""The demo: ``labcal-cloud demo up`` (``./scripts/run``) is ``labcal-cloud serve`` on a fresh
data dir plus seed data, simulated stations and edge agents. Everything the product does (the
API and portal, ingest, the pipeline, the scheduler) runs in serve's roles
(:mod:`labcal_cloud.serve`); the demo only seeds and simulates.

- :mod:`.layout` — the files of one demo (station, edge and script TOML; pure text builders);
- :mod:`.world` — the seeded tenant, users, devices, fleet and stations;
- :mod:`.stations` — the simulated stations, the edge agents and the scripted runs;
- :mod:`.up` — the sequence ``demo up`` runs;  :mod:`.commands` — the CLI.
"""
