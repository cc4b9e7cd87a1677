#!/usr/bin/env bash
# Install or upgrade the LabCal edge agent on a Debian/Ubuntu lab PC.
#
#   sudo deploy/edge/install.sh [--dry-run] [--config FILE] [--wheels DIR] [--no-start]
#                               [--reinstall] [--unit FILE] [--python PYTHON] [--root DIR]
#
# What it does (each step only when needed, so running it again is safe and is how you upgrade):
#   1. python3 (>= 3.11) with venv support (apt-get install python3-venv when missing)
#   2. system user `labcal` (no login shell, home /var/lib/labcal-edge) in group `dialout`,
#      so the agent may open serial ports (/dev/ttyUSB*, /dev/ttyACM*) without root
#   3. /etc/labcal (root:G 0750) and /var/lib/labcal-edge (labcal:G 0750: outbox, state), where G
#      is the unit's Group= (the group the agent runs as; default: labcal)
#   4. a virtualenv in /opt/labcal-edge/venv with labcal-shared and labcal-edge installed from
#      this repository (or, offline, from wheels in --wheels DIR); upgraded in place when the
#      repository's version differs from the installed one (or with --reinstall)
#   5. /etc/labcal/edge.toml from --config FILE (root:G 0640, it holds the MQTT password);
#      an existing file is kept unless --config is given; the result is checked with
#      `labcal-edge check-config`
#   6. the systemd unit deploy/systemd/labcal-edge.service → /etc/systemd/system, enabled, and
#      (re)started when the configuration is valid (skipped with --no-start)
#
# --dry-run prints every change it would make and changes nothing (no root needed).
# --root DIR installs under DIR instead of / (packaging and tests): paths are prefixed and the
#   steps that act on the running system (user, ownership, systemctl) are printed, not run.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

dry_run=false
root=""
config=""
wheels=""
start=true
reinstall=false
unit_src="$repo/deploy/systemd/labcal-edge.service"
python=${PYTHON:-python3}

usage() { sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "install: $*" >&2; exit 1; }
note() { echo "install: $*"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) dry_run=true; shift ;;
    --config) config=${2:?--config needs a file}; shift 2 ;;
    --wheels) wheels=${2:?--wheels needs a directory}; shift 2 ;;
    --unit) unit_src=${2:?--unit needs a file}; shift 2 ;;
    --python) python=${2:?--python needs a command}; shift 2 ;;
    --root) root=${2:?--root needs a directory}; shift 2 ;;
    --no-start) start=false; shift ;;
    --reinstall) reinstall=true; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done

user=labcal
venv="$root/opt/labcal-edge/venv"
etc_dir="$root/etc/labcal"
state_dir="$root/var/lib/labcal-edge"
unit_dir="$root/etc/systemd/system"
config_dst="$etc_dir/edge.toml"
system=true  # act on the running system (user, ownership, systemctl)
[ -z "$root" ] || system=false

# run CMD...: run a change, or print it under --dry-run.
run() {
  if $dry_run; then
    printf 'would run:'; printf ' %q' "$@"; printf '\n'
  else
    printf '+'; printf ' %q' "$@"; printf '\n'
    "$@"
  fi
}
# on_system CMD...: a change to the running system; only printed with --root.
on_system() {
  if $system; then run "$@"; else printf 'skipped (--root):'; printf ' %q' "$@"; printf '\n'; fi
}

[ -f "$unit_src" ] || die "systemd unit not found: $unit_src"
# The agent runs with the unit's Group= as its group (supplementary groups come from /etc/group,
# which does not list a user's primary group), so the files it reads belong to that group.
group=$(sed -n 's/^Group=\(.*\)$/\1/p' "$unit_src" | tail -n 1)
group=${group:-$user}
[ -z "$config" ] || [ -f "$config" ] || die "no such configuration file: $config"
[ -z "$wheels" ] || [ -d "$wheels" ] || die "no such wheel directory: $wheels"
if $system && ! $dry_run && [ "$(id -u)" != 0 ]; then
  die "run as root (sudo), or try --dry-run"
fi

# 1. Python with venv support.
command -v "$python" >/dev/null || die "$python not found (apt-get install python3)"
"$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' ||
  die "$python is older than 3.11 (Debian 12 / Ubuntu 24.04 have a recent enough python3)"
if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
  on_system apt-get install -y python3-venv
fi

# 2. User and serial-port access.
if getent passwd "$user" >/dev/null; then
  note "user $user exists"
else
  on_system useradd --system --user-group --home-dir /var/lib/labcal-edge \
    --shell /usr/sbin/nologin --comment "LabCal edge agent" "$user"
fi
if id -nG "$user" 2>/dev/null | tr ' ' '\n' | grep -qx dialout; then
  note "user $user is in group dialout"
else
  on_system usermod --append --groups dialout "$user"
fi

# 3. Directories.
for d in "$etc_dir" "$state_dir"; do
  if [ -d "$d" ]; then note "$d exists"; else run mkdir -p "$d"; fi
done
on_system chown "root:$group" "$etc_dir"
on_system chown "$user:$group" "$state_dir"
run chmod 0750 "$etc_dir" "$state_dir"

# 4. Virtualenv and packages (pip upgrades in place; unchanged packages are kept).
if [ -x "$venv/bin/python" ]; then
  note "virtualenv $venv exists"
else
  run mkdir -p "$(dirname "$venv")"
  run "$python" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip install --quiet --disable-pip-version-check)
if [ -n "$wheels" ]; then
  run "${pip[@]}" --no-index --find-links "$wheels" --upgrade labcal-edge
else
  [ -f "$repo/edge/pyproject.toml" ] || die "no edge/ package under $repo; use --wheels DIR"
  want=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$repo/edge/pyproject.toml")
  have=""
  if [ -x "$venv/bin/python" ]; then
    have=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("labcal-edge"))' \
      2>/dev/null || true)
  fi
  if [ -n "$have" ] && [ "$have" = "$want" ] && ! $reinstall; then
    note "labcal-edge $have is installed (same as $repo/edge; --reinstall to force)"
  else
    force=()
    if $reinstall; then force=(--force-reinstall); fi
    run "${pip[@]}" --upgrade "${force[@]}" "$repo/shared" "$repo/edge"
  fi
fi

# 5. Configuration.
config_ok=false
if [ -n "$config" ]; then
  run install -m 0640 "$config" "$config_dst"
  on_system chown "root:$group" "$config_dst"
elif [ -f "$config_dst" ]; then
  note "configuration $config_dst kept"
else
  note "no configuration yet: write $config_dst (see docs/configuration.md, or the output of"
  note "  'labcal-cloud station add'), then run this installer again with --config FILE"
fi
if [ -f "$config_dst" ] || { $dry_run && [ -n "$config" ]; }; then
  if $dry_run; then
    note "would check the configuration with labcal-edge check-config"
    config_ok=true
  elif "$venv/bin/labcal-edge" check-config "$config_dst"; then
    config_ok=true
  else
    note "the configuration is not valid: the agent is enabled but not started"
  fi
fi

# 6. Systemd unit.
unit_dst="$unit_dir/labcal-edge.service"
if [ -f "$unit_dst" ] && cmp -s "$unit_src" "$unit_dst"; then
  note "unit $unit_dst is up to date"
else
  run mkdir -p "$unit_dir"
  run install -m 0644 "$unit_src" "$unit_dst"
fi
if $system && ! [ -d /run/systemd/system ] && ! $dry_run; then
  note "systemd is not running here; enable the unit on the target with:"
  note "  systemctl enable --now labcal-edge.service"
else
  on_system systemctl daemon-reload
  on_system systemctl enable labcal-edge.service
  if $start && $config_ok; then
    on_system systemctl restart labcal-edge.service
  fi
fi
note "done$($dry_run && echo ' (dry run: nothing was changed)')"
