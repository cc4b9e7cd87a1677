#!/usr/bin/env bash
# Entry point of the simulated station container: the simulator serves the devices on ptys,
# the real edge agent reads them. SIGTERM stops both (the agent first, so it flushes its
# outbox state); if either exits, the other is stopped and the container exits with its code.
set -euo pipefail

sim_config=${LABCAL_SIM_CONFIG:-/etc/labcal/sim.toml}
edge_config=${LABCAL_EDGE_CONFIG:-/etc/labcal/edge.toml}

labcal-edge check-config "$edge_config"
labcal-sim station --config "$sim_config" &
sim=$!

# Wait until every device link that edge.toml names exists (the simulator prints them too).
for _ in $(seq 1 100); do
  missing=0
  while read -r port; do
    [ -e "$port" ] || missing=1
  done < <(sed -n 's/^port = "\(.*\)"$/\1/p' "$edge_config")
  [ "$missing" = 0 ] && break
  kill -0 "$sim" 2>/dev/null || { echo "run-station: labcal-sim exited" >&2; exit 1; }
  sleep 0.1
done

labcal-edge run --config "$edge_config" &
edge=$!

# shellcheck disable=SC2329  # called by the trap below
stop() {
  kill -TERM "$edge" 2>/dev/null || true
  wait "$edge" 2>/dev/null || true
  kill -TERM "$sim" 2>/dev/null || true
  wait "$sim" 2>/dev/null || true
  exit 0
}
trap stop TERM INT

set +e
wait -n "$edge" "$sim"
code=$?
set -e
echo "run-station: a process exited ($code); stopping the other" >&2
kill -TERM "$edge" "$sim" 2>/dev/null || true
wait || true
exit "$code"
