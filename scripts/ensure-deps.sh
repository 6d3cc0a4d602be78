#!/usr/bin/env bash
# Installs the system packages kyso's demo and tests use, when they are missing.
#
#   scripts/ensure-deps.sh [demo|test]
#
# As root it runs apt-get; otherwise it prints the exact command to run and fails, so that
# nothing is half-installed behind the user's back.
set -euo pipefail
what=${1:-demo}

# command -> Debian package
declare -A need=(
  [softhsm2-util]=softhsm2
  [openssl]=openssl
  [pkcs11-tool]=opensc
  [curl]=curl
)
if [ "$what" = test ]; then
  need+=(
    [pdfsig]=poppler-utils
    [qpdf]=qpdf
    [xmlsec1]=xmlsec1
    [xmllint]=libxml2-utils
  )
fi

missing=()
for cmd in "${!need[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${need[$cmd]}")
done
if [ "$what" = test ] && ! command -v pyhanko >/dev/null 2>&1; then
  echo "pyhanko is missing: python3 -m pip install 'pyhanko[opentype,image-support]==0.38.*' pyhanko-cli" >&2
fi
# Visible signatures set Vietnamese text in Liberation Serif (kyso's default [pdf] font); the demo
# makes one too.
if [ ! -f /usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf ]; then
  missing+=(fonts-liberation2)
fi
# The 200 MB signing test reads the child's peak memory from GNU time; `command -v time` would
# find the shell keyword, so the binary is looked for.
if [ "$what" = test ] && [ ! -x /usr/bin/time ]; then
  missing+=(time)
fi
# PostgreSQL's server binaries are not on PATH in Debian.
if [ "$what" = test ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  missing+=(postgresql)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
if [ "$(id -u)" -eq 0 ]; then
  echo "installing: ${missing[*]}" >&2
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "missing packages: ${missing[*]}" >&2
  echo "install them with:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 2
fi
