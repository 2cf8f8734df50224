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

# make release: the component alone, in its own target dir, into dist/.
RELEASE_TARGET_DIR := target/release-guest
MAX_COMPONENT_BYTES := 1048576
CARGO_HOME_DIR      := $(or $(CARGO_HOME),$(HOME)/.cargo)

.PHONY: all toolchain venv build demo test lint fmt clean fuzz fuzz-tools bench release reproducible-check

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
demo: build venv
	@$(PEER_PYTHON) tests/peer/iam_peer.py run -- $(HARNESS) collect --component $(COMPONENT)

## test: every test (unit tests of the component and the harness, end to end via moto),
## then each fuzz target for a few seconds
test: toolchain venv
	$(CARGO) test --workspace
	$(MAKE) fuzz FUZZ_SECONDS=5

## release: the component (release profile, wasm32-wasip2) as dist/aws-iam-users-<version>.wasm
## and its .sha256, the version being Cargo.toml's [workspace.package] version. Reproducible:
## the toolchain is pinned (rust-toolchain.toml), the lock file enforced (--locked), and the
## only paths compiled in (panic locations) are remapped: the tree to /aws-iam-users,
## CARGO_HOME to /cargo (last, so it wins when CARGO_HOME lies inside the tree). Fails if the
## WIT package's major.minor differs from the version, or the component exceeds 1 MiB.
release: toolchain
	@set -eu; \
	version=$$($(CARGO) pkgid -p aws-iam-users | sed 's/.*[#@]//'); \
	wit=$$(sed -n 's/^package aws-iam-users:connector@\(.*\);$$/\1/p' wit/world.wit); \
	if [ "$${version%.*}" != "$${wit%.*}" ]; then \
	  echo "release: Cargo.toml version $$version and WIT package version $$wit differ on major.minor" >&2; exit 1; \
	fi; \
	CARGO_ENCODED_RUSTFLAGS="$$(printf '%s\037%s' \
	  '--remap-path-prefix=$(CURDIR)=/aws-iam-users' '--remap-path-prefix=$(CARGO_HOME_DIR)=/cargo')" \
	  $(CARGO) build --locked -p aws-iam-users --release --target wasm32-wasip2 \
	  --target-dir $(RELEASE_TARGET_DIR); \
	artifact=aws-iam-users-$$version.wasm; \
	mkdir -p dist; \
	cp $(RELEASE_TARGET_DIR)/wasm32-wasip2/release/aws_iam_users.wasm dist/$$artifact; \
	(cd dist && sha256sum $$artifact > $$artifact.sha256); \
	size=$$(stat -c %s dist/$$artifact); \
	echo "release: dist/$$artifact ($$size bytes; budget $(MAX_COMPONENT_BYTES))" >&2; \
	echo "release: $$(cat dist/$$artifact.sha256)" >&2; \
	if [ $$size -gt $(MAX_COMPONENT_BYTES) ]; then \
	  echo "release: dist/$$artifact is $$size bytes, over the 1 MiB budget" >&2; exit 1; \
	fi

## reproducible-check: `make release` in two copies of the tree (its tracked and unignored
## files, uncommitted edits included) in different folders, each with its own target dir;
## fails unless both artifacts have the same sha256
reproducible-check:
	@set -eu; \
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	for copy in a/aws-iam-users second-copy-of-the-tree; do \
	  mkdir -p "$$tmp/$$copy"; \
	  git ls-files -z --cached --others --exclude-standard \
	    | tar --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -xf - -C "$$tmp/$$copy"; \
	  $(MAKE) --no-print-directory -C "$$tmp/$$copy" release > "$$tmp/$$copy.log" 2>&1 \
	    || { tail -n 30 "$$tmp/$$copy.log" >&2; echo "reproducible-check: make release failed in $$copy" >&2; exit 1; }; \
	  echo "reproducible-check: $$copy: $$(cat "$$tmp/$$copy"/dist/*.sha256)" >&2; \
	done; \
	first=$$(cut -d' ' -f1 "$$tmp"/a/aws-iam-users/dist/*.sha256); \
	second=$$(cut -d' ' -f1 "$$tmp"/second-copy-of-the-tree/dist/*.sha256); \
	if [ "$$first" != "$$second" ]; then \
	  echo "reproducible-check: the two builds differ" >&2; exit 1; \
	fi; \
	echo "reproducible-check: identical ($$first)" >&2

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

## bench: the release harness and component against a loopback fake IAM (N users, 30 ms per
## call; one BENCH line per run and a table; every run has a timeout and must return exactly N
## events; BENCH_PER_USER_10K=1 adds per-user at 10,000 users), then the CPU benchmark of
## parsing and mapping (criterion). About 10 minutes; not part of make test.
bench: build
	$(CARGO) bench -p host-harness --bench scale
	$(CARGO) bench -p aws-iam-users --features hooks --bench parse_map

## lint: formatting and clippy on the host and on the wasm target
lint: toolchain
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy -p aws-iam-users --all-targets --features hooks -- -D warnings
	$(CARGO) clippy -p aws-iam-users --target wasm32-wasip2 -- -D warnings

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
	rm -rf $(VENV) dist
