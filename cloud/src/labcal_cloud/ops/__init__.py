"""Operations of the cloud processes: health and readiness probes, Prometheus metrics,
structured JSON logs.

- :mod:`.router` — ``/healthz``, ``/readyz``, ``/metrics`` for the API app
  (``create_app(..., extra_routers=[ops_router])`` plus :func:`.router.install`);
- :mod:`.prometheus` — the text exposition format (pure);
- :mod:`.readiness` — what "ready" means (pure);
- :mod:`.collect` — the figures read from the shared database (SQL adapter);
- :mod:`.logs` — the JSON log formatter and ``configure_logging``;
- :mod:`.shutdown` — SIGTERM/SIGINT for the loop processes (ingest, scheduler);
- :mod:`.http_serve` — uvicorn until SIGTERM/SIGINT, then exit 0 (``portal-serve``, demo API).
"""
