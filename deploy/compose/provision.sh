#!/usr/bin/env bash
# The compose `provision` one-shot (cloud image, as root, after `migrate`): broker TLS material,
# the lab's tenant in the portal, the simulated station's registration under that tenant and its
# edge configuration, the broker's password and ACL files, file ownership.
# Idempotent: run it again after registering stations (`labcal-cloud station add`), then reload
# the broker with `docker compose kill -s HUP mosquitto`.
#
# Environment: LABCAL_DATABASE_URL (as every cloud process), LABCAL_INGEST_MQTT_PASSWORD,
# LABCAL_LAB_NAME (the customer tenant the simulated station belongs to: found by name in the
# portal, or created; its generated id is the station's MQTT tenant), LABCAL_STATION_ID,
# STATION_PASSWORD_FILE (compose secret), BROKER_HOSTNAMES (names in the dev server certificate),
# EDGE_TEMPLATE / EDGE_CONFIG (station/edge.toml in, the station's configuration out, with the
# tenant id and LABCAL_MQTT_HOST filled in), EMQX_TLS_DIR (a copy of the broker's TLS files that
# EMQX, uid EMQX_UID, can read; profile emqx).
set -euo pipefail

die() { echo "provision: $*" >&2; exit 1; }
broker_dir=${BROKER_DIR:-/etc/mosquitto/labcal}
broker_data=${BROKER_DATA_DIR:-/var/lib/mosquitto}
ca_dir=${CA_DIR:-/etc/labcal/tls}
mosquitto_uid=${MOSQUITTO_UID:-1883}
: "${LABCAL_INGEST_MQTT_PASSWORD:?set LABCAL_INGEST_MQTT_PASSWORD}"
lab_name=${LABCAL_LAB_NAME:?set LABCAL_LAB_NAME}
station=${LABCAL_STATION_ID:?set LABCAL_STATION_ID}
password_file=${STATION_PASSWORD_FILE:-/run/secrets/station_password}
edge_template=${EDGE_TEMPLATE:-/etc/labcal/station-template/edge.toml}
edge_config=${EDGE_CONFIG:-/etc/labcal/station/edge.toml}
mqtt_host=${LABCAL_MQTT_HOST:-mosquitto}
emqx_tls_dir=${EMQX_TLS_DIR:-}
emqx_uid=${EMQX_UID:-1000}
[ -s "$password_file" ] || die "no station password in $password_file"
[ -s "$edge_template" ] || die "no station configuration template in $edge_template"
[[ "$mqtt_host" =~ ^[A-Za-z0-9.-]+$ ]] || die "LABCAL_MQTT_HOST is not a host name: $mqtt_host"
[[ "$station" =~ ^[A-Za-z0-9_.-]{1,64}$ ]] || die "LABCAL_STATION_ID is not a station id: $station"

# 1. TLS: keep what is there (real certificates mounted by the operator), else make dev ones.
# shellcheck disable=SC2086  # BROKER_HOSTNAMES is a space-separated list
labcal-make-dev-certs "$broker_dir" ${BROKER_HOSTNAMES:-mosquitto localhost}
mkdir -p "$ca_dir"
cp "$broker_dir/ca.crt" "$ca_dir/ca.crt"
chmod 644 "$ca_dir/ca.crt"

# 2. The lab's tenant: the portal generates tenant ids, so look it up by name (or create it).
tenant=$(labcal-lab-tenant "$lab_name")
[[ "$tenant" =~ ^[A-Za-z0-9_.-]{1,64}$ ]] || die "unexpected tenant id from labcal-lab-tenant: $tenant"
echo "provision: lab \"$lab_name\" is tenant $tenant"

# 3. The simulated station under that tenant (skipped when already registered).
registered=$(labcal-cloud station list | awk -F'\t' -v s="$station" '$2 == s { print $1 }')
if [ "$registered" = "$tenant" ]; then
  echo "provision: station $tenant/$station already registered"
elif [ -n "$registered" ]; then
  die "station $station is registered for tenant $registered, not $tenant ($lab_name)"
else
  labcal-cloud station add --tenant "$tenant" --station "$station" \
    --password "$(cat "$password_file")" --broker-host mosquitto --broker-port 8883 \
    --ca-file "$ca_dir/ca.crt" >/dev/null
  echo "provision: registered station $tenant/$station"
fi

# 4. The station's edge configuration: the template with the tenant id and the broker host.
mkdir -p "$(dirname "$edge_config")"
sed -e "/^\[station\]/,/^\[/ s/^tenant = .*/tenant = \"$tenant\"/" \
    -e "/^\[station\]/,/^\[/ s/^id = .*/id = \"$station\"/" \
    -e "/^\[mqtt\]/,/^\[/ s/^\(client_id\|username\) = .*/\1 = \"$station\"/" \
    -e "/^\[mqtt\]/,/^\[/ s/^host = .*/host = \"$mqtt_host\"/" \
    "$edge_template" > "$edge_config.tmp"
for line in "tenant = \"$tenant\"" "id = \"$station\"" "username = \"$station\"" "host = \"$mqtt_host\""; do
  grep -qxF "$line" "$edge_config.tmp" || die "$edge_template: no line to set $line in"
done
chmod 644 "$edge_config.tmp"
mv "$edge_config.tmp" "$edge_config"
echo "provision: wrote $edge_config (tenant $tenant, station $station, broker $mqtt_host)"

# 5. Broker files for every registered station plus the ingest service user.
labcal-cloud station mosquitto-files --out-dir "$broker_dir" \
  --service-user "ingest:$LABCAL_INGEST_MQTT_PASSWORD"

# 6. Mosquitto drops root for uid 1883 and must read its files and write its persistence.
mkdir -p "$broker_data"
chown -R "$mosquitto_uid:$mosquitto_uid" "$broker_dir" "$broker_data"
chmod 600 "$broker_dir/passwords" "$broker_dir/server.key"

# 7. EMQX (profile emqx) runs as its own uid: it gets its own copy of the TLS files.
if [ -n "$emqx_tls_dir" ]; then
  mkdir -p "$emqx_tls_dir"
  cp "$broker_dir/ca.crt" "$broker_dir/server.crt" "$broker_dir/server.key" "$emqx_tls_dir/"
  chown -R "$emqx_uid:$emqx_uid" "$emqx_tls_dir"
  chmod 600 "$emqx_tls_dir/server.key"
fi
echo "provision: done"
