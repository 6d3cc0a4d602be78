#!/usr/bin/env bash
# Removes a token directory made by softhsm/token-create.sh, keys, PINs and all.
#
#   softhsm/token-remove.sh DIR
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "usage: $0 DIR" >&2
  exit 2
fi
dir=$1
if [ ! -f "$dir/softhsm2.conf" ]; then
  echo "$dir does not hold a token made by token-create.sh; not removing anything" >&2
  exit 2
fi
rm -rf -- "$dir/tokens" "$dir/softhsm2.conf" "$dir"/*.pin "$dir"/*.so-pin
rmdir -- "$dir" 2>/dev/null || true
echo "removed the tokens in $dir" >&2
