#!/usr/bin/env bash
# The kyso service end to end on 127.0.0.1: start `kyso serve` on an ephemeral port, sign and
# verify through the API with curl, record issued documents, read the signing-rate report,
# check the audit chain, and stop the service (SIGTERM: in-flight requests finish, PKCS#11
# sessions close).
#
#   scripts/demo-service.sh [DIR] [TOKEN]     (defaults: var/demo kyso-demo)
#
# Run after `kyso demo --dir DIR --token TOKEN` and `kyso ledger demo --ledger DIR/ledger.sqlite`
# (what `make demo` does first): it reuses their token, keys, demo CA and ledger. API keys are
# created here and kept in DIR/service/ (mode 600), never printed.
set -euo pipefail

dir=${1:-var/demo}
token=${2:-kyso-demo}
root="$(cd "$(dirname "$0")/.." && pwd)"
kyso=${KYSO_BIN:-$root/target/release/kyso}
command -v curl >/dev/null || { echo "curl not found: apt-get install -y curl" >&2; exit 2; }
[ -x "$kyso" ] || { echo "$kyso not built: cargo build --release" >&2; exit 2; }
[ -f "$dir/pki/root.pem" ] || { echo "$dir/pki not found: run kyso demo first (make demo)" >&2; exit 2; }
dir=$(cd "$dir" && pwd)
export SOFTHSM2_CONF="$dir/softhsm2.conf"
unset KYSO_LEDGER_POSTGRES_URL
service="$dir/service"
mkdir -p "$service"
chmod 700 "$service"

cat >"$service/kyso.toml" <<TOML
[token]
pin_source = "file:$dir/$token.pin"

[verify]
trust = ["$dir/pki/root.pem"]
crls = ["$dir/pki/intermediate.crl", "$dir/pki/root.crl"]
revocation = "offline"

[serve]
listen = "127.0.0.1:0"
ledger = "$dir/ledger.sqlite"

[[serve.keys]]
name = "stp-01"
uri = "pkcs11:token=$token;object=chu-tich"
unit = "STP"
method = "token"
chain = ["$dir/pki/intermediate.pem"]
# Offered through the CSC API too (/csc/v1, /csc/v2), to the signers of unit STP.
csc = true
TOML
export KYSO_CONFIG="$service/kyso.toml"

say() { printf '    %s\n' "$*"; }
step() { printf '\n[%s] %s\n' "$1" "$2"; }

step 9 "the kyso service: API keys (stored hashed; each shown once, kept in $service)"
umask 077
"$kyso" apikey create --role signer --unit STP --label "DMS Sở Tư pháp" >"$service/signer.key" 2>/dev/null
"$kyso" apikey create --role auditor --unit '*' --label "Thanh tra tỉnh" >"$service/auditor.key" 2>/dev/null
"$kyso" apikey create --role verifier --unit STP --label "Văn thư Sở Tư pháp" >"$service/verifier.key" 2>/dev/null
say "signer (STP), auditor (every unit), verifier (STP)"
signer=$(cat "$service/signer.key"); auditor=$(cat "$service/auditor.key"); verifier=$(cat "$service/verifier.key")

"$kyso" serve >"$service/stdout" 2>"$service/service.log" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  url=$(sed -n 's/^kyso: listening on //p' "$service/stdout" 2>/dev/null || true)
  [ -n "$url" ] && break
  kill -0 $pid 2>/dev/null || { cat "$service/service.log" >&2; exit 2; }
  sleep 0.1
done
[ -n "$url" ] || { echo "kyso serve did not start" >&2; exit 2; }
say "kyso serve listening on $url (log: $service/service.log)"
say "ready: $(curl -s "$url/readyz" | head -c 200)"

step 10 "sign the letter through the API (PAdES, key stp-01 of unit STP)"
curl -sf -o "$dir/cong-van-124.api-signed.pdf" -D "$service/headers" \
  -H "Authorization: Bearer $signer" -H "Content-Type: application/pdf" \
  --data-binary @"$dir/cong-van-123.pdf" \
  "$url/v1/sign/pdf?key=stp-01&document_id=STP-2026-124&reason=Ban%20h%C3%A0nh&visible=1,320,300,240,90"
say "→ $dir/cong-van-124.api-signed.pdf ($(grep -i '^x-kyso-indication' "$service/headers" | tr -d '\r'))"
say "the auditor's key may not sign: HTTP $(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $auditor" \
  -H 'Content-Type: application/pdf' --data-binary @"$dir/cong-van-123.pdf" "$url/v1/sign/pdf?key=stp-01")"

step 11 "sign a letter through kyso's CSC API (Cloud Signature Consortium), pyHanko's CSCSigner as the client"
# pyHanko reads the certificates (credentials/info), asks for a SAD bound to the hash it will
# sign (credentials/authorize) and has kyso's token sign it (signatures/signHash); kyso never
# sees the document, and records the signature in the ledger and the audit log.
if KYSO_CSC_API_KEY=$signer python3 "$root/scripts/pyhanko_csc_sign.py" "$url" stp-01 \
  "$dir/cong-van-123.pdf" "$dir/cong-van-125.csc-signed.pdf" >"$service/csc.out" 2>"$service/csc.err"; then
  say "→ $dir/cong-van-125.csc-signed.pdf (SAD valid for $(sed -n 's/^expiresIn //p' "$service/csc.out") s, spent by that one signature)"
  say "kyso verify: $("$kyso" verify --trust "$dir/pki/root.pem" --crl "$dir/pki/intermediate.crl" --crl "$dir/pki/root.crl" \
    --revocation offline "$dir/cong-van-125.csc-signed.pdf" | head -1)"
else
  say "pyHanko could not sign through CSC: $(tail -1 "$service/csc.err")"
  exit 2
fi

step 12 "verify it through the API, as the receiving clerk's software would"
indication=$(curl -sf -H "Authorization: Bearer $verifier" -H "Content-Type: application/pdf" \
  --data-binary @"$dir/cong-van-124.api-signed.pdf" "$url/v1/verify" |
  sed -n 's/^{"format":"pdf","sha256":"[0-9a-f]*","indication":"\([A-Z-]*\)".*/\1/p')
say "indication: ${indication:-see the JSON report}"

step 13 "record the issued document (idempotent: sent twice, counted once)"
doc='{"document_id":"STP-2026-124","number":"124/STP-VP","doc_type":"Công văn","unit":"STP","issued_at":"2026-01-05T09:00:00+07:00","declared":"signed"}'
for _ in 1 2; do
  say "$(curl -sf -H "Authorization: Bearer $signer" -H 'Content-Type: application/json' -d "$doc" "$url/v1/documents")"
done

step 14 "the signing-rate report through the API"
curl -sf -H "Authorization: Bearer $auditor" "$url/v1/reports/signing-rate?period=2022-H1&format=html" -o "$dir/signing-rate-2022-H1.api.html"
overall=$(curl -sf -H "Authorization: Bearer $auditor" "$url/v1/reports/signing-rate?period=2022-H1&format=json" |
  tr -d '\n ' | sed -n 's/.*"overall":{\([^}]*\)}.*/\1/p')
say "2022-H1 overall: $overall"
say "report (JSON, CSV, HTML): $url/v1/reports/signing-rate?period=2022-H1&format=html  (Authorization: Bearer \$(cat $service/auditor.key))"
say "saved: $dir/signing-rate-2022-H1.api.html"
say "API description: $url/openapi.json   metrics: $url/metrics"
say "web pages: $url/web/ (HTTP $(curl -s -o /dev/null -w '%{http_code}' "$url/web/"); log in with the key in $service/verifier.key to verify documents,"
say "  $service/auditor.key for the signing-rate dashboard)"

step 15 "stop the service (SIGTERM: requests in flight finish, PKCS#11 sessions close), check the audit chain"
kill -TERM $pid
wait $pid || true
trap - EXIT
"$kyso" audit verify --ledger "$dir/ledger.sqlite" | sed 's/^/    /'
say "to keep the service up and open the pages in a browser:"
say "  SOFTHSM2_CONF=$SOFTHSM2_CONF KYSO_CONFIG=$KYSO_CONFIG $kyso serve --listen 127.0.0.1:8080"
say "  then http://127.0.0.1:8080/web/ with the key in $service/auditor.key or $service/verifier.key"
