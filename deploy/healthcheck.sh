#!/usr/bin/env bash
# The container's health probe: GET PATH on the node's own port; exit 0 on 200, 1 otherwise.
#
#   deploy/healthcheck.sh [/healthz|/readyz]      (default /healthz)
#
# The image holds no curl or wget (less to patch in a signing service's image): bash's /dev/tcp
# sends one HTTP/1.0 request over loopback. The port is KYSO_SERVE_LISTEN's, which the image sets
# (0.0.0.0:8080); a listen address given only in kyso.toml must be given here too.
set -u
path=${1:-/healthz}
listen=${KYSO_SERVE_LISTEN:-0.0.0.0:8080}
port=${listen##*:}
host=${listen%:*}
host=${host#[}
host=${host%]}
case $host in
  0.0.0.0 | "") host=127.0.0.1 ;;
  ::) host=::1 ;;
esac
{ exec 3<>"/dev/tcp/$host/$port"; } 2>/dev/null || exit 1
printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "$path" >&3 || exit 1
IFS= read -r -t 5 status <&3 || exit 1
case $status in
  "HTTP/1."?" 200 "*) exit 0 ;;
  *) exit 1 ;;
esac
