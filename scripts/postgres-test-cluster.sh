#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for kyso's ledger tests and benchmarks.
#
#   scripts/postgres-test-cluster.sh start   # create if needed, start, print the connection URL
#   scripts/postgres-test-cluster.sh url     # print the URL of the running cluster
#   scripts/postgres-test-cluster.sh stop    # stop it (the data stays under var/ until `destroy`)
#   scripts/postgres-test-cluster.sh destroy # stop and delete it
#
# Typical use:
#   export KYSO_TEST_POSTGRES_URL=$(scripts/postgres-test-cluster.sh start)
#   cargo test --test tests ledger
#
# The cluster lives in var/postgres-test/ of this checkout (see choose_base), listens on 127.0.0.1 only (and a Unix
# socket in its own directory, never /var/run/postgresql), on a free port, with trust
# authentication for the local user `kyso`: it is a test fixture, not a server. It needs Debian's
# `postgresql` package (initdb and pg_ctl under /usr/lib/postgresql/*/bin). initdb refuses to run
# as root, so as root the server runs as the `postgres` system user that package creates.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
user=kyso
database=kyso_test

die() { echo "postgres-test-cluster: $*" >&2; exit 2; }

bindir() {
    local dir
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    [[ -n "$dir" && -x "$dir/initdb" ]] ||
        die "no PostgreSQL server found under /usr/lib/postgresql/*/bin: apt-get install postgresql"
    echo "$dir"
}

# Runs a command as the cluster's owner: ourselves, or `postgres` when we are root.
as_owner() {
    if [[ "$(id -u)" == 0 ]]; then
        id postgres >/dev/null 2>&1 || die "running as root but there is no postgres user to run the server as"
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# The cluster's directory: var/postgres-test of this checkout, or KYSO_PG_TEST_DIR. As root, the
# server runs as `postgres`, which must be able to enter it; a checkout under a private directory
# (/root, say) is not, and then the cluster goes to a directory under /tmp named after the checkout.
choose_base() {
    base="${KYSO_PG_TEST_DIR:-$root/var/postgres-test}"
    if [[ "$(id -u)" == 0 ]]; then
        id postgres >/dev/null 2>&1 || die "running as root but there is no postgres user to run the server as"
        mkdir -p "$base"
        chown postgres: "$base"
        if ! runuser -u postgres -- test -x "$base"; then
            local alternative
            alternative="/tmp/kyso-postgres-test-$(printf '%s' "$root" | sha256sum | cut -c1-12)"
            echo "postgres-test-cluster: user postgres cannot enter $base; using $alternative" >&2
            base="$alternative"
            mkdir -p "$base"
            chown postgres: "$base"
            chmod 755 "$base"
        fi
    fi
    data="$base/data"
    sockets="$base/run"
    log="$base/server.log"
    port_file="$base/port"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null && return
    local port
    for port in $(seq 25432 25532); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
    done
    die "no free port in 25432-25532"
}

url() {
    [[ -f "$port_file" ]] || die "no cluster: run scripts/postgres-test-cluster.sh start"
    echo "postgres://$user@127.0.0.1:$(cat "$port_file")/$database"
}

running() {
    [[ -f "$data/postmaster.pid" ]] && as_owner "$(bindir)/pg_ctl" -D "$data" status >/dev/null 2>&1
}

start() {
    local bin port
    bin="$(bindir)"
    mkdir -p "$base"
    if running; then url; return; fi
    if [[ ! -f "$data/PG_VERSION" ]]; then
        as_owner "$bin/initdb" -D "$data" -U "$user" --auth=trust -E UTF8 --locale=C.UTF-8 >"$base/initdb.log" 2>&1 ||
            die "initdb failed: see $base/initdb.log"
    fi
    as_owner mkdir -p "$sockets"
    port="$(free_port)"
    # listen_addresses: loopback only. unix_socket_directories: our own directory, so the test
    # cluster never collides with a system cluster's socket.
    as_owner "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $sockets" start >/dev/null ||
        die "server did not start: see $log"
    echo "$port" >"$port_file"
    if ! as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U "$user" -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$database'" | grep -q 1; then
        as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U "$user" "$database"
    fi
    url
}

stop() {
    if running; then
        as_owner "$(bindir)/pg_ctl" -D "$data" -m fast -w stop >/dev/null
    fi
}

choose_base
case "${1:-}" in
    start) start ;;
    url) running || die "cluster not running: run scripts/postgres-test-cluster.sh start"; url ;;
    stop) stop ;;
    destroy) stop; rm -rf "$base" ;;
    *) echo "usage: $0 start|url|stop|destroy" >&2; exit 2 ;;
esac
