#!/usr/bin/env bash
# The dependency tree against deny.toml: licences, sources and bans from Cargo.lock alone, then
# the RustSec advisories. The live advisory database (a git repository on GitHub) is used when it
# can be fetched; otherwise the offline snapshot in ../shared/advisory-db (KYSO_ADVISORY_SNAPSHOT
# to point elsewhere), and the output names the snapshot's date. An unaccepted advisory fails the
# run either way; with neither database at hand the run fails too.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-deps.sh deps

# cargo-deny reads the whole graph for every target in deny.toml: fetch it first (crates.io).
cargo fetch --locked --quiet
cargo-deny --offline --locked check bans licenses sources

if cargo-deny fetch db >/dev/null 2>&1; then
  cargo-deny --offline --locked check advisories
  echo "advisories checked against the live RustSec database (fetched $(date -u +%Y-%m-%d))"
  exit 0
fi

snapshot=${KYSO_ADVISORY_SNAPSHOT:-../shared/advisory-db}
if [ ! -f "$snapshot/SNAPSHOT.md" ]; then
  echo "advisories NOT checked: the live RustSec database could not be fetched and there is no" >&2
  echo "  snapshot at $snapshot (set KYSO_ADVISORY_SNAPSHOT to its folder)" >&2
  exit 1
fi
# "... commit <sha> (2025-02-24) ..." in SNAPSHOT.md: the date the snapshot was taken.
snapshot_date=$(grep -oE '\(([0-9]{4}-[0-9]{2}-[0-9]{2})\)' "$snapshot/SNAPSHOT.md" | head -1 | tr -d '()')
: "${snapshot_date:=unknown date}"

# cargo-deny reads a database only as a git repository named after its URL, inside `db-path`.
db_root=target/advisory-dbs
db=$db_root/advisory-db-3157b0e258782691
stamp=$db/.kyso-snapshot-source
# Rebuilt whenever the snapshot's files change (names, sizes, times).
source_id=$(cd "$snapshot" && find . -type f -printf '%P %s %T@\n' | sort | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$source_id" ]; then
  rm -rf "$db"
  mkdir -p "$db"
  cp -r "$snapshot"/. "$db"
  (cd "$db" && git init -q && git add -A &&
    git -c user.name=snapshot -c user.email=snapshot@localhost commit -q -m snapshot)
  echo "$source_id" >"$stamp"
fi
# The same policy as deny.toml, reading the snapshot.
config=$db_root/deny.snapshot.toml
sed "s|^\[advisories\]$|[advisories]\ndb-path = \"$PWD/$db_root\"|" deny.toml >"$config"
cargo-deny --offline --locked --config "$config" check advisories
echo "advisories checked against the snapshot of $snapshot_date ($snapshot): advisories published later are not covered"
