#!/usr/bin/env bash
# The one-shot init service of deploy/compose.yaml: makes, once, what the kyso nodes share.
#
#   1. the SoftHSM token in the shared volume /var/lib/kyso/softhsm (softhsm/token-create.sh,
#      the PINs read from the token-pin and token-so-pin secrets; no PIN is written anywhere);
#   2. with KYSO_INIT_DEMO=1 (the trial): `kyso demo` generates keys inside the token and
#      certifies them from a demo CA written to /var/lib/kyso/init/demo/pki (deploy/kyso.toml
#      names them); for production set 0 and import the keys' real certificates instead
#      (`kyso token import-cert`);
#   3. the ledger's units from /etc/kyso/units.csv (`kyso units import`, idempotent);
#   4. the first API keys, each printed once into /var/lib/kyso/bootstrap (mode 600, a volume
#      only this service mounts): admin.key and signer.key (unit STP). Read them, hand them
#      over, delete them.
#
# Every step is skipped when already done, so compose may run this at each `up`.
set -euo pipefail

label=${KYSO_INIT_TOKEN_LABEL:-kyso}
token_dir=/var/lib/kyso/softhsm
init=/var/lib/kyso/init
bootstrap=/var/lib/kyso/bootstrap
units=${KYSO_INIT_UNITS:-/etc/kyso/units.csv}
say() { printf 'kyso-init: %s\n' "$*" >&2; }

KYSO_TOKEN_PIN_FILE=/run/secrets/token-pin KYSO_TOKEN_SO_PIN_FILE=/run/secrets/token-so-pin \
  /usr/local/lib/kyso/softhsm/token-create.sh "$token_dir" "$label" >/dev/null
export SOFTHSM2_CONF=$token_dir/softhsm2.conf

if [ "${KYSO_INIT_DEMO:-0}" = 1 ]; then
  if [ -f "$init/demo/pki/root.pem" ]; then
    say "demo keys and CA already made"
  else
    mkdir -p "$init/demo"
    # kyso demo reads DIR/LABEL.pin: point it at the secret rather than copying the PIN.
    ln -sfn /run/secrets/token-pin "$init/demo/$label.pin"
    kyso demo --dir "$init/demo" --token "$label"
  fi
fi

kyso units import "$units"

umask 077
make_key() { # FILE ROLE UNIT LABEL
  if [ -e "$bootstrap/.$1.made" ]; then
    say "$1 already made (delete $bootstrap/.$1.made to make another)"
    return
  fi
  kyso apikey create --role "$2" --unit "$3" --label "$4" >"$bootstrap/$1.tmp"
  mv "$bootstrap/$1.tmp" "$bootstrap/$1"
  : >"$bootstrap/.$1.made"
  say "$1 written to $bootstrap/$1 (shown nowhere else)"
}
make_key admin.key admin '*' "compose bootstrap admin"
make_key signer.key signer STP "compose trial signer"
say "done"
