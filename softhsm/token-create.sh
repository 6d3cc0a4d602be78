#!/usr/bin/env bash
# Creates a throwaway SoftHSM token inside the project.
#
#   softhsm/token-create.sh DIR LABEL [LABEL…]
#
# Writes DIR/softhsm2.conf (tokens under DIR/tokens), initialises one token per LABEL with a
# random SO PIN and user PIN, and stores the PINs in DIR/<label>.so-pin and DIR/<label>.pin
# (mode 600). Prints the line to export SOFTHSM2_CONF. Re-running with an existing label leaves
# that token alone.
#
# With KYSO_TOKEN_PIN_FILE and KYSO_TOKEN_SO_PIN_FILE set (both), the PINs are read from those
# files (their first line) instead, and no PIN file is written into DIR: how the container
# deployment's init service makes its token from secrets it is given (deploy/init.sh).
#
# softhsm2-util only takes PINs as arguments, so they are briefly visible to other local users in
# the process list: acceptable for a throwaway test token, never for a real one.
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 DIR LABEL [LABEL…]" >&2
  exit 2
fi
command -v softhsm2-util >/dev/null || {
  echo "softhsm2-util not found: install it with: sudo apt-get install -y softhsm2" >&2
  exit 2
}

dir=$1
shift
mkdir -p "$dir/tokens"
dir=$(cd "$dir" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
sed "s|@TOKENDIR@|$dir/tokens|" "$here/softhsm2.conf.in" >"$dir/softhsm2.conf"
export SOFTHSM2_CONF="$dir/softhsm2.conf"

random_pin() { od -An -N6 -tu2 /dev/urandom | tr -d ' \n' | cut -c1-12; }
first_line() { head -n 1 -- "$1" | tr -d '\r\n'; }
given=""
if [ -n "${KYSO_TOKEN_PIN_FILE:-}" ] || [ -n "${KYSO_TOKEN_SO_PIN_FILE:-}" ]; then
  [ -r "${KYSO_TOKEN_PIN_FILE:-}" ] && [ -r "${KYSO_TOKEN_SO_PIN_FILE:-}" ] || {
    echo "KYSO_TOKEN_PIN_FILE and KYSO_TOKEN_SO_PIN_FILE must both name readable files" >&2
    exit 2
  }
  given=1
fi

umask 077
for label in "$@"; do
  if softhsm2-util --show-slots 2>/dev/null | grep -q "Label: *$label *$"; then
    echo "token '$label' already exists in $dir" >&2
    continue
  fi
  if [ -n "$given" ]; then
    so_pin=$(first_line "$KYSO_TOKEN_SO_PIN_FILE")
    user_pin=$(first_line "$KYSO_TOKEN_PIN_FILE")
    [ ${#user_pin} -ge 4 ] && [ ${#so_pin} -ge 4 ] || {
      echo "the PIN files hold PINs shorter than SoftHSM's 4 characters" >&2
      exit 2
    }
    where="user PIN from $KYSO_TOKEN_PIN_FILE"
  else
    so_pin=$(random_pin)
    user_pin=$(random_pin)
    printf '%s\n' "$so_pin" >"$dir/$label.so-pin"
    printf '%s\n' "$user_pin" >"$dir/$label.pin"
    where="user PIN in $dir/$label.pin"
  fi
  softhsm2-util --init-token --free --label "$label" --so-pin "$so_pin" --pin "$user_pin" >/dev/null
  echo "token '$label' created in $dir ($where)" >&2
done
echo "export SOFTHSM2_CONF=$dir/softhsm2.conf"
