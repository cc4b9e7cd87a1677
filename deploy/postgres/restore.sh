#!/usr/bin/env bash
# Restore a LabCal backup (made by backup.sh) into an EMPTY PostgreSQL database, then check it.
#
#   restore.sh ARCHIVE [DATABASE_URL]
#
# DATABASE_URL defaults to $LABCAL_DATABASE_URL. Checks before touching the target: the archive's
# checksum (ARCHIVE.sha256, when present), that pg_restore can read the archive, that the target
# is reachable and holds no tables in schema public (restoring over live data is refused: create a
# new database, restore, check, then point the services at it). With TimescaleDB in the archive,
# the target must offer the extension; the restore runs inside timescaledb_pre_restore() /
# timescaledb_post_restore() as TimescaleDB requires. Without it, the restore is one transaction.
# Checks after: every table that has data in the archive exists in the target, and the row counts
# are printed; the last applied migration is shown.
set -euo pipefail

usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "restore: $*" >&2; exit 1; }

archive=""
url="${LABCAL_DATABASE_URL:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) if [ -z "$archive" ]; then archive=$1; else url=$1; fi; shift ;;
  esac
done
[ -n "$archive" ] || die "no archive given (see --help)"
[ -n "$url" ] || die "no database URL: pass one or set LABCAL_DATABASE_URL"
[ -f "$archive" ] || die "no such archive: $archive"
for tool in pg_restore psql sha256sum; do
  command -v "$tool" >/dev/null || die "$tool is not installed (apt-get install postgresql-client)"
done
sql() { psql --no-psqlrc -X -At -v ON_ERROR_STOP=1 --dbname="$url" "$@"; }

if [ -f "$archive.sha256" ]; then
  (cd "$(dirname "$archive")" && sha256sum -c "$(basename "$archive").sha256" >/dev/null) ||
    die "checksum mismatch: $archive is damaged"
else
  echo "restore: warning: no $archive.sha256, integrity not checked" >&2
fi
toc=$(pg_restore --list "$archive") || die "pg_restore cannot read $archive"
mapfile -t tables < <(printf '%s\n' "$toc" | awk '/ TABLE DATA /{for (i = 1; i < NF; i++) if ($i == "DATA") {print $(i+1) "." $(i+2); break}}' |
  grep -v '^_timescaledb' | sort -u)
[ "${#tables[@]}" -gt 0 ] || die "$archive holds no table data"
uses_timescale=false
if printf '%s\n' "$toc" | grep -q ' EXTENSION - timescaledb'; then uses_timescale=true; fi

sql -c 'select 1' >/dev/null || die "cannot connect to the target database"
existing=$(sql -c "select count(*) from information_schema.tables where table_schema = 'public'")
[ "$existing" = 0 ] || die "the target database already has $existing tables in schema public; restore into a new, empty database"

if $uses_timescale; then
  available=$(sql -c "select count(*) from pg_available_extensions where name = 'timescaledb'")
  [ "$available" = 1 ] || die "the archive uses TimescaleDB but the target server does not offer the extension"
  sql -c 'create extension if not exists timescaledb' -c 'select timescaledb_pre_restore()' >/dev/null
  trap 'sql -c "select timescaledb_post_restore()" >/dev/null || true' EXIT
  pg_restore --no-owner --no-privileges --exit-on-error --no-password --dbname="$url" "$archive"
  sql -c 'select timescaledb_post_restore()' >/dev/null
  trap - EXIT
else
  pg_restore --no-owner --no-privileges --exit-on-error --single-transaction --no-password \
    --dbname="$url" "$archive"
fi

missing=0
for t in "${tables[@]}"; do
  if [ "$(sql -c "select to_regclass('$t') is not null")" != t ]; then
    echo "restore: MISSING table $t" >&2
    missing=$((missing + 1))
  else
    printf 'restore: %-32s %s rows\n' "$t" "$(sql -c "select count(*) from $t")"
  fi
done
[ "$missing" = 0 ] || die "$missing tables of the archive are missing in the target"
if [ "$(sql -c "select to_regclass('public.schema_migrations') is not null")" = t ]; then
  echo "restore: schema at migration $(sql -c 'select max(version) from schema_migrations')"
fi
sql -c 'analyze' >/dev/null
echo "restore: done, ${#tables[@]} tables checked"
