#!/usr/bin/env bash
# The compose `provision` one-shot (cloud image, as root, after `migrate`): broker TLS material,
# the simulated station's registration, the broker's password and ACL files, file ownership.
# Idempotent: run it again after registering stations (`labcal-cloud station add`), then reload
# the broker with `docker compose kill -s HUP mosquitto`.
#
# Environment: LABCAL_DATABASE_URL (as every cloud process), LABCAL_INGEST_MQTT_PASSWORD,
# LABCAL_STATION_TENANT / LABCAL_STATION_ID (the simulated station, as in station/edge.toml),
# STATION_PASSWORD_FILE (compose secret), BROKER_HOSTNAMES (names in the dev server certificate).
set -euo pipefail

die() { echo "provision: $*" >&2; exit 1; }
broker_dir=${BROKER_DIR:-/etc/mosquitto/labcal}
broker_data=${BROKER_DATA_DIR:-/var/lib/mosquitto}
ca_dir=${CA_DIR:-/etc/labcal/tls}
mosquitto_uid=${MOSQUITTO_UID:-1883}
: "${LABCAL_INGEST_MQTT_PASSWORD:?set LABCAL_INGEST_MQTT_PASSWORD}"
tenant=${LABCAL_STATION_TENANT:?set LABCAL_STATION_TENANT}
station=${LABCAL_STATION_ID:?set LABCAL_STATION_ID}
password_file=${STATION_PASSWORD_FILE:-/run/secrets/station_password}
[ -s "$password_file" ] || die "no station password in $password_file"

# 1. TLS: keep what is there (real certificates mounted by the operator), else make dev ones.
# shellcheck disable=SC2086  # BROKER_HOSTNAMES is a space-separated list
labcal-make-dev-certs "$broker_dir" ${BROKER_HOSTNAMES:-mosquitto localhost}
mkdir -p "$ca_dir"
cp "$broker_dir/ca.crt" "$ca_dir/ca.crt"
chmod 644 "$ca_dir/ca.crt"

# 2. The simulated station (skipped when already registered).
if labcal-cloud station list --tenant "$tenant" | cut -f2 | grep -qxF "$station"; then
  echo "provision: station $tenant/$station already registered"
else
  labcal-cloud station add --tenant "$tenant" --station "$station" \
    --password "$(cat "$password_file")" --broker-host mosquitto --broker-port 8883 \
    --ca-file "$ca_dir/ca.crt" >/dev/null
  echo "provision: registered station $tenant/$station"
fi

# 3. Broker files for every registered station plus the ingest service user.
labcal-cloud station mosquitto-files --out-dir "$broker_dir" \
  --service-user "ingest:$LABCAL_INGEST_MQTT_PASSWORD"

# 4. Mosquitto drops root for uid 1883 and must read its files and write its persistence.
mkdir -p "$broker_data"
chown -R "$mosquitto_uid:$mosquitto_uid" "$broker_dir" "$broker_data"
chmod 600 "$broker_dir/passwords" "$broker_dir/server.key"
echo "provision: done"
