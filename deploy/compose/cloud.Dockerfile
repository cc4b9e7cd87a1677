# syntax=docker/dockerfile:1
# The LabCal cloud image: labcal-shared + labcal-cloud from this repository on python:3.11-slim.
# Build from the repository root:  docker build -f deploy/compose/cloud.Dockerfile -t labcal-cloud .
# One image, one process per container: the command picks the role
# (migrate | portal-serve | ingest | pipeline run | scheduler run | station ...; see
# docs/architecture.md, "Which process runs which stage"). `pip install` of the package folders
# (not editable) ships their data files too: tests/deploy/test_wheel_install.py.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# openssl: the provisioning one-shot makes development TLS material (deploy/compose/make-dev-certs.sh)
RUN apt-get update \
    && apt-get install -y --no-install-recommends openssl \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/labcal --create-home labcal

WORKDIR /src
COPY shared/ shared/
COPY cloud/ cloud/
RUN pip install ./shared ./cloud && rm -rf /src

WORKDIR /var/lib/labcal
USER labcal
EXPOSE 8000
ENTRYPOINT ["labcal-cloud"]
CMD ["--help"]
