# kyso: the two commands a newcomer needs are `make demo` and `make test`.

CARGO ?= cargo
DEMO_DIR := var/demo
DEMO_TOKEN := kyso-demo

.PHONY: demo test test-fast lint deps bench fuzz clean-demo

CONFORMANCE ?= $(CURDIR)/../shared/conformance
FUZZ_SECONDS ?= 30
FUZZ_TARGETS := verify_document pdf_structure cms_ber xml_c14n x509_crl_ocsp pkcs11_uri upload_zip edxml_package

## make demo: install what is missing, create a project-local SoftHSM token, run the main job
## end to end (keys generated in the token, certificates from a demo CA, sign PDF and XML,
## verify), then seed the demo province's ledger and print its signing-rate report.
demo:
	@scripts/ensure-deps.sh demo
	@$(CARGO) build --release --quiet
	@if [ -d $(DEMO_DIR) ]; then softhsm/token-remove.sh $(DEMO_DIR); fi
	@softhsm/token-create.sh $(DEMO_DIR) $(DEMO_TOKEN) >/dev/null
	SOFTHSM2_CONF=$(CURDIR)/$(DEMO_DIR)/softhsm2.conf ./target/release/kyso demo --dir $(DEMO_DIR) --token $(DEMO_TOKEN)
	@echo
	@echo "[8] the province's signing-rate ledger, first half of 2022 (declared and verified)"
	@./target/release/kyso ledger demo --ledger $(DEMO_DIR)/ledger.sqlite
	@./target/release/kyso report --period 2022-H1 --ledger $(DEMO_DIR)/ledger.sqlite
	@./target/release/kyso report --period 2022-H1 --ledger $(DEMO_DIR)/ledger.sqlite --format html --out $(DEMO_DIR)/signing-rate-2022-H1.html
	@echo "    report page: $(DEMO_DIR)/signing-rate-2022-H1.html"
	@scripts/demo-service.sh $(DEMO_DIR) $(DEMO_TOKEN)

## make test: formatting, lints, and every test (unit, integration against real SoftHSM,
## OpenSSL, pdfsig, qpdf, pyHanko, xmlsec1 and PostgreSQL). Each test process makes its own
## throwaway token under target/tmp/tokens; the ledger's PostgreSQL tests use a throwaway
## cluster under var/postgres-test, listening on 127.0.0.1 only.
## Runs scripts/ensure-deps.sh first, the same list CI and `make demo` use: on a fresh machine
## (as root) it installs every peer the tests call; otherwise it prints the commands and stops.
test:
	@scripts/ensure-deps.sh test
	@$(MAKE) --no-print-directory lint
	KYSO_TEST_POSTGRES_URL=$$(scripts/postgres-test-cluster.sh start) \
	  $(CARGO) nextest run --no-fail-fast --cargo-quiet

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets --quiet -- -D warnings
	@# The library without its test scaffolding (testpki, pdf::sample, batch::corpus, kyso demo):
	@# what a program embedding kyso builds.
	$(CARGO) clippy --lib --no-default-features --quiet -- -D warnings
	@# The fuzz targets are a crate of their own (nightly to run, any toolchain to compile):
	@# checked here so that a changed library API cannot leave them broken until the next fuzz run.
	$(CARGO) check --quiet --locked --manifest-path fuzz/Cargo.toml --bins

## make deps: the dependency tree against deny.toml with cargo-deny (licences, sources, bans)
## and the RustSec advisories: the live database when it can be fetched, else the offline
## snapshot in ../shared/advisory-db (KYSO_ADVISORY_SNAPSHOT), named with its date.
deps:
	@scripts/check-deps.sh

## make bench: throughput next to the peers measured in the same run (see BENCHMARKS.md).
bench:
	@scripts/ensure-deps.sh demo
	$(CARGO) bench --bench token
	$(CARGO) bench --bench pki
	$(CARGO) bench --bench xml
	$(CARGO) bench --bench ledger
	$(CARGO) bench --bench pdf_sign
	$(CARGO) bench --bench api
	$(CARGO) bench --bench csc
	$(CARGO) bench --bench batch
	$(CARGO) bench --bench extend
	$(CARGO) bench --bench jobs

## make fuzz: each fuzz target (fuzz/fuzz_targets) for FUZZ_SECONDS with libFuzzer, seeded from
## kyso's own outputs and reading the conformance suites as extra corpus folders. Needs the
## nightly toolchain and cargo-fuzz (installed here if missing). upload_zip runs the batch engine,
## whose worker threads may still be exiting when libFuzzer counts allocations after an input:
## LeakSanitizer reports them (a few hundred bytes that the same input alone never leaks), so
## leak detection is off for that target only; memory bounds are tested in tests/batch.rs.
fuzz:
	@command -v cargo-fuzz >/dev/null 2>&1 || $(CARGO) install cargo-fuzz --locked
	@$(CARGO) run --quiet --example fuzz-seeds -- fuzz/corpus
	@set -e; cd fuzz; for target in $(FUZZ_TARGETS); do \
	  flags=""; \
	  case $$target in \
	    verify_document|pdf_structure) extra="$(CONFORMANCE)/dss-pades $(CONFORMANCE)/pdf-certification-attacks" ;; \
	    xml_c14n) extra="$(CONFORMANCE)/dss-xades $(CONFORMANCE)/xmlsec-dsig/merlin-c14n-three" ;; \
	    x509_crl_ocsp) extra="$(CONFORMANCE)/nist-pkits/certs $(CONFORMANCE)/nist-pkits/crls" ;; \
	    upload_zip) extra=""; flags="-detect_leaks=0" ;; \
	    *) extra="" ;; \
	  esac; \
	  existing=""; for d in $$extra; do [ -d "$$d" ] && existing="$$existing $$d"; done; \
	  echo "== fuzz $$target ($(FUZZ_SECONDS) s)"; \
	  log=artifacts/$$target.log; mkdir -p artifacts; \
	  status=0; cargo +nightly fuzz run $$target corpus/$$target $$existing -- \
	    -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 $$flags \
	    >$$log 2>&1 || status=$$?; \
	  grep -E "^(==|#[0-9]+ +DONE|stat::number_of_executed_units|SUMMARY|Done)" $$log || true; \
	  if ls artifacts/$$target/crash-* artifacts/$$target/timeout-* >/dev/null 2>&1; then \
	    echo "fuzz $$target found a failure: fuzz/artifacts/$$target"; exit 1; fi; \
	  if [ $$status -ne 0 ]; then \
	    tail -30 $$log; echo "fuzz $$target did not run to the end (exit $$status): fuzz/$$log"; exit 1; fi; \
	done

clean-demo:
	@if [ -d $(DEMO_DIR) ]; then softhsm/token-remove.sh $(DEMO_DIR); fi
