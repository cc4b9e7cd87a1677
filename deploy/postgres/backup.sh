#!/usr/bin/env bash
# Back up the LabCal PostgreSQL database (plain PostgreSQL or TimescaleDB) with pg_dump's custom
# format, check that the archive is readable, and write a checksum beside it.
#
#   backup.sh [--dir DIR] [--keep N] [--name NAME] [DATABASE_URL]
#
# DATABASE_URL defaults to $LABCAL_DATABASE_URL. The archive is DIR/NAME (default
# labcal-<UTC timestamp>.dump) plus NAME.sha256; it is written under a temporary name and renamed
# only once complete, so a half-written file never looks like a backup. --keep N deletes all but
# the N newest labcal-*.dump archives in DIR (default: keep everything).
# Passwords: in the URL, $PGPASSWORD or ~/.pgpass (never on the command line in production).
#
# TimescaleDB: pg_dump of a database with the extension is supported as is (the hypertables' chunks
# are ordinary tables); it may print warnings about circular foreign keys in the catalog, which are
# expected. Restore with restore.sh, which runs timescaledb_pre_restore()/post_restore().
set -euo pipefail

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "backup: $*" >&2; exit 1; }

dir=.
keep=0
name=""
url="${LABCAL_DATABASE_URL:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir=${2:?--dir needs a value}; shift 2 ;;
    --keep) keep=${2:?--keep needs a value}; shift 2 ;;
    --name) name=${2:?--name needs a value}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) url=$1; shift ;;
  esac
done
[ -n "$url" ] || die "no database URL: pass one or set LABCAL_DATABASE_URL"
case "$url" in postgres://*|postgresql://*) ;; *) die "not a PostgreSQL URL: ${url%%:*}://..." ;; esac
case "$keep" in ''|*[!0-9]*) die "--keep wants a number, got '$keep'" ;; esac
for tool in pg_dump pg_restore psql sha256sum; do
  command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install postgresql-client)"
done
[ -n "$name" ] || name="labcal-$(date -u +%Y%m%dT%H%M%SZ).dump"
case "$name" in */*) die "--name is a file name, not a path: $name" ;; esac
mkdir -p "$dir"

psql --no-psqlrc -X -q -v ON_ERROR_STOP=1 --dbname="$url" -c 'select 1' >/dev/null ||
  die "cannot connect to the database"
timescale=$(psql --no-psqlrc -X -At --dbname="$url" \
  -c "select coalesce((select extversion from pg_extension where extname = 'timescaledb'), '')")

target="$dir/$name"
partial="$target.partial"
trap 'rm -f "$partial"' EXIT
pg_dump --format=custom --compress=6 --no-password --file="$partial" --dbname="$url"
entries=$(pg_restore --list "$partial" | grep -c ' TABLE DATA ' || true)
[ "$entries" -gt 0 ] || die "the archive holds no table data; refusing to call it a backup"
mv "$partial" "$target"
trap - EXIT
(cd "$dir" && sha256sum "$name" >"$name.sha256")
echo "backup: wrote $target ($(du -h "$target" | cut -f1), $entries tables with data${timescale:+, TimescaleDB $timescale})"

if [ "$keep" -gt 0 ]; then
  # Archives are named by UTC timestamp, so name order is age order; newest first.
  mapfile -t old < <(cd "$dir" && for f in labcal-*.dump; do [ -f "$f" ] && echo "$f"; done |
    sort -r | tail -n +"$((keep + 1))")
  for f in "${old[@]}"; do
    rm -f "$dir/$f" "$dir/$f.sha256"
    echo "backup: removed old archive $dir/$f"
  done
fi
