"""The whole LabCal system on one machine, with one command (``./scripts/run``).

``labcal-cloud demo up`` is the demo's composition root: it starts a private MQTT broker, the
cloud processes (API + portal, ingest, the demo worker), simulated stations on ptys and edge
agents, seeds a demo tenant, prints the portal URL and login, and stops everything on Ctrl-C.

- :mod:`.supervisor` — child processes: start, wait until ready, stop in reverse order;
- :mod:`.broker` — a private Mosquitto on a free port;
- :mod:`.layout` — the files of one demo (station, edge and script TOML; pure text builders);
- :mod:`.world` — the seeded tenant, users, devices, fleet and stations;
- :mod:`.projector` — ingest rows → portal (usage weeks, certificates from runs);
- :mod:`.reminders` — engine due states → reminder steps (inbox channel);
- :mod:`.worker` — the loop running projector, reminders and a scheduler pass;
- :mod:`.api` — the API app (portal with its inbox + read API + ops);
- :mod:`.up` — the sequence ``demo up`` runs;  :mod:`.commands` — the CLI.
"""
