# aws-iam-users — build, demo and tests. Every target installs what it needs.

CARGO       ?= cargo
PYTHON      ?= python3
VENV        := .venv
PEER_PYTHON := $(VENV)/bin/python
COMPONENT   := target/guest/wasm32-wasip2/release/aws_iam_users.wasm
HARNESS     := target/release/host-harness

FUZZ_SECONDS ?= 60
FUZZ_TARGETS := responses cursor
# cargo-fuzz needs unstable sanitizer flags; RUSTC_BOOTSTRAP lets the stable toolchain take them.
FUZZ_ENV     := RUSTC_BOOTSTRAP=1

.PHONY: all toolchain venv build demo test lint fmt clean fuzz fuzz-tools

all: build

## toolchain: the wasm32-wasip2 Rust target (idempotent)
toolchain:
	@rustup target list --installed | grep -qx wasm32-wasip2 || rustup target add wasm32-wasip2

## venv: the Python test peer (moto) in .venv, pinned by tests/peer/requirements.txt
venv: $(VENV)/.installed
$(VENV)/.installed: tests/peer/requirements.txt
	@echo "venv: installing the test peer (moto) into $(VENV)" >&2
	@$(PYTHON) -m venv $(VENV)
	@$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tests/peer/requirements.txt >&2
	@touch $@

## build: the component (release, wasm32-wasip2) and the host harness (release)
build: toolchain
	@$(CARGO) build --release -p host-harness
	@echo "component: $(COMPONENT) ($$(stat -c %s $(COMPONENT)) bytes)" >&2
	@echo "harness:   $(HARNESS)" >&2

## demo: inventory a seeded local IAM (moto on 127.0.0.1, auth mode) and print the events
## (NDJSON on stdout, everything else on stderr: `make demo > users.ndjson` works)
# moto does not implement ListServiceSpecificCredentials: the run is partial (exit 4) there.
demo: build venv
	@$(PEER_PYTHON) tests/peer/iam_peer.py run -- $(HARNESS) collect --component $(COMPONENT); \
	status=$$?; \
	if [ $$status -eq 4 ]; then \
	  echo "demo: partial (exit 4) as expected: moto does not implement ListServiceSpecificCredentials," \
	       "so unmapped.service_specific_credentials_count is left out and named in collection_errors" >&2; \
	else exit $$status; fi

## test: every test (unit tests of the component and the harness, end to end via moto),
## then each fuzz target for a few seconds
test: toolchain venv
	$(CARGO) test --workspace
	$(MAKE) fuzz FUZZ_SECONDS=5

## fuzz-tools: cargo-fuzz (libFuzzer), installed once
fuzz-tools:
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked

## fuzz: run every fuzz target for FUZZ_SECONDS each, seeded with the XML fixtures. A crash
## stops it and leaves the input in fuzz/artifacts/: add it to tests/fixtures/hostile/.
fuzz: fuzz-tools
	@mkdir -p target
	@for target in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz/corpus/$$target; \
	  log=target/fuzz-$$target.log; \
	  (cd fuzz && $(FUZZ_ENV) $(CARGO) fuzz run $$target corpus/$$target ../tests/fixtures/moto \
	    ../tests/fixtures/synthetic ../tests/fixtures/hostile -- -max_total_time=$(FUZZ_SECONDS)) \
	    > $$log 2>&1 || { tail -n 40 $$log; echo "fuzz: $$target failed (log: $$log)"; exit 1; }; \
	  echo "fuzz: $$target: $$(grep -E '^Done' $$log)"; \
	done

## lint: formatting and clippy on the host and on the wasm target
lint: toolchain
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy -p aws-iam-users --target wasm32-wasip2 -- -D warnings

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
	rm -rf $(VENV) dist
