#!/usr/bin/env bash
# Makes the secret files deploy/compose.yaml mounts, in deploy/secrets/ (git ignores it):
#
#   postgres-password  the ledger database's password (PostgreSQL's POSTGRES_PASSWORD_FILE)
#   ledger-url         postgres://kyso:<that password>@postgres:5432/kyso, for
#                      KYSO_LEDGER_POSTGRES_URL_SOURCE=file:/run/secrets/ledger-url
#   token-pin          the SoftHSM token's user PIN (KYSO_TOKEN_PIN_SOURCE)
#   token-so-pin       its security officer PIN (used only by the init service)
#   tls.pem            HAProxy's certificate and key: a self-signed one for localhost, for a
#                      trial; put the real certificate (PEM chain, then key) here instead
#
# An existing file is kept. The folder is 700 so other users of the host cannot read it; the
# files are 644 because compose bind-mounts them as they are, and the containers' users
# (kyso 10001, haproxy, postgres) differ from the host's.
#
#   deploy/make-secrets.sh
set -euo pipefail
dir="$(cd "$(dirname "$0")" && pwd)/secrets"
mkdir -p "$dir"
chmod 700 "$dir"
random() { head -c 24 /dev/urandom | base64 | tr -d '/+=\n' | cut -c1-"$1"; }
make() { # NAME CONTENT
  if [ -e "$dir/$1" ]; then echo "kept $dir/$1" >&2; return; fi
  printf '%s\n' "$2" >"$dir/$1"
  chmod 644 "$dir/$1"
  echo "made $dir/$1" >&2
}
password=$(if [ -e "$dir/postgres-password" ]; then head -n1 "$dir/postgres-password"; else random 32; fi)
make postgres-password "$password"
make ledger-url "postgres://kyso:$password@postgres:5432/kyso"
make token-pin "$(random 16)"
make token-so-pin "$(random 16)"
if [ ! -e "$dir/tls.pem" ]; then
  command -v openssl >/dev/null || { echo "openssl not found: apt-get install openssl" >&2; exit 2; }
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
    -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
  cat "$tmp/cert.pem" "$tmp/key.pem" >"$dir/tls.pem"
  chmod 644 "$dir/tls.pem"
  echo "made $dir/tls.pem (self-signed, localhost: a trial certificate)" >&2
fi
