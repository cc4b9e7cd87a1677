# syntax=docker/dockerfile:1
# A simulated balance station: labcal-sim (devices on ptys) + labcal-edge (the real agent).
# Build from the repository root:  docker build -f deploy/compose/station.Dockerfile -t labcal-station .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The agent runs as labcal in group dialout, as on a lab PC (deploy/edge/install.sh).
RUN useradd --system --uid 10001 --user-group --groups dialout \
        --home-dir /var/lib/labcal-edge --create-home labcal

WORKDIR /src
COPY shared/ shared/
COPY edge/ edge/
COPY firmware-sim/ firmware-sim/
RUN pip install ./shared ./edge ./firmware-sim && rm -rf /src

COPY deploy/compose/station/run-station.sh /usr/local/bin/labcal-run-station
COPY deploy/compose/station/sim.toml deploy/compose/station/edge.toml /etc/labcal/

WORKDIR /var/lib/labcal-edge
USER labcal
ENTRYPOINT ["/usr/local/bin/labcal-run-station"]
