"""LabCal on one machine: ``labcal-cloud serve --data-dir DIR``.

The roles (broker, API + portal, ingest, pipeline, scheduler) run as child OS processes with the
same ``labcal-cloud`` commands the deploy files start; ``serve`` applies the migrations, keeps
the database, the secrets and the logs in the data dir (never wiped), restarts a role that
crashed, and stops them in reverse order on SIGINT/SIGTERM. ``demo up`` is a layer on top.

- :mod:`.commands` — the CLI (``serve``, ``broker``);  :mod:`.options` — the typed flags;
- :mod:`.session` — one run: prepare, start the roles, watch them, stop;
- :mod:`.lifecycle` — signals, exit codes;  :mod:`.console` — what is printed;
- :mod:`.roles` — each role's command line and readiness (pure);
- :mod:`.data_dir` — the data dir's files, the kept secrets;  :mod:`.signing` — a key pair;
- :mod:`.supervisor` — child processes: start, wait until ready, restart, stop;
- :mod:`.backoff` — when to restart (pure);  :mod:`.probes` — readiness checks;
- :mod:`.broker` — a private Mosquitto;  :mod:`.embedded_broker` — the amqtt broker.
"""
