#!/usr/bin/env bash
# Development TLS material for the broker: a throwaway CA and a server certificate signed by it.
#
#   make-dev-certs.sh DIR [HOSTNAME ...]      (default hostnames: mosquitto localhost)
#
# Writes DIR/ca.crt, DIR/ca.key, DIR/server.crt, DIR/server.key (keys mode 600). The server
# certificate names every HOSTNAME and 127.0.0.1 in subjectAltName, which is what TLS clients
# check. Idempotent: existing files are kept (delete them to rotate). For production use a real
# CA (your PKI, or a public CA for the broker's public name) and keep ca.key off the broker.
set -euo pipefail

die() { echo "make-dev-certs: $*" >&2; exit 1; }
[ $# -ge 1 ] || die "usage: make-dev-certs.sh DIR [HOSTNAME ...]"
dir=$1
shift
[ $# -gt 0 ] || set -- mosquitto localhost
command -v openssl >/dev/null || die "openssl is not installed"
for name in "$@"; do
  case "$name" in
    ''|*[!A-Za-z0-9.-]*) die "not a host name: '$name'" ;;
  esac
done

mkdir -p "$dir"
umask 077
if [ -f "$dir/server.crt" ] && [ -f "$dir/server.key" ] && [ -f "$dir/ca.crt" ]; then
  echo "make-dev-certs: $dir already has ca.crt, server.crt and server.key; kept"
  exit 0
fi

san="IP:127.0.0.1"
for name in "$@"; do san="$san,DNS:$name"; done

openssl req -x509 -newkey rsa:2048 -nodes -days 825 -sha256 \
  -subj "/O=LabCal development/CN=LabCal development CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -sha256 -subj "/O=LabCal development/CN=$1" \
  -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
ext=$(mktemp)
trap 'rm -f "$ext" "$dir/server.csr"' EXIT
printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n' \
  "$san" >"$ext"
openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
  -CAcreateserial -days 825 -sha256 -extfile "$ext" -out "$dir/server.crt" 2>/dev/null
chmod 644 "$dir/ca.crt" "$dir/server.crt"
openssl verify -CAfile "$dir/ca.crt" "$dir/server.crt" >/dev/null || die "the new certificate does not verify"
echo "make-dev-certs: wrote $dir/{ca,server}.{crt,key} for $*"
