# weir — build, run, test, bench.
GO        ?= go
BIN       := bin/weir
VENV      := .venv
PY        := $(VENV)/bin/python
KFP_VERSION := 2.17.3
export GOFLAGS := -buildvcs=false

.PHONY: build run run-local examples test unit e2e browser bench venv clean ui ui-test

# The web interface (ui/) is built into ui/dist and embedded into the
# binary. `build` builds it first when node and npm are installed; without
# them the binary embeds the committed placeholder page (ui/README.md).
NPM       := $(shell command -v npm 2>/dev/null)
NODE      := $(shell command -v node 2>/dev/null)
UI_BUILD  := $(if $(and $(NPM),$(NODE)),ui,)
UI_SRC    := $(shell find ui/src -type f 2>/dev/null) ui/app.html ui/vite.config.ts ui/tsconfig.json ui/package.json
UI_STAMP  := ui/node_modules/.package-lock.json

# A static binary (no cgo: every dependency is pure Go) starts without the
# dynamic loader, a millisecond and a half less per command, and runs on
# any Linux.
build: $(UI_BUILD)
	CGO_ENABLED=0 $(GO) build -o $(BIN) ./cmd/weir

ui: ui/dist/app.html

$(UI_STAMP): ui/package-lock.json ui/package.json
	cd ui && npm ci --no-audit --no-fund
	touch $@

ui/dist/app.html: $(UI_STAMP) $(UI_SRC)
	cd ui && npm run build

# Type check, unit tests and build of the web interface.
ui-test: $(UI_STAMP)
	cd ui && npm run check

PY_REQS   := kfp==$(KFP_VERSION) kfp-kubernetes==$(KFP_VERSION)
VENV_STAMP := $(VENV)/.weir-$(KFP_VERSION)

$(VENV_STAMP):
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check $(PY_REQS)
	touch $@

venv: $(VENV_STAMP)

# Compiles the examples with the real kfp SDK, starts weir server on the
# embedded default (WEIR_HOME, SQLite) with them uploaded and one iris run
# started, and prints the URL. Ctrl-C stops it.
run: build venv examples
	scripts/run-server.sh

# Runs the iris example once in the terminal, without a server.
run-local: build venv examples
	./$(BIN) run examples/iris/pipeline.yaml

examples: venv
	$(PY) examples/iris/pipeline.py examples/iris/pipeline.yaml

unit:
	$(GO) vet ./...
	$(GO) test ./...

e2e: build venv
	WEIR_BIN=$(CURDIR)/$(BIN) WEIR_E2E_PYTHON=$(CURDIR)/$(PY) \
		$(GO) test -tags e2e -count=1 -timeout 20m ./test/e2e/...

# The web interface in a real browser: Debian's chromium, headless, driven
# by chromedp (test/browser/README.md). It fails when bin/weir embeds only
# the placeholder page (no npm) or chromium is missing. Screenshots go to
# test/browser/screenshots/ (or $WEIR_SCREENSHOTS); -v prints the measured
# time to an interactive run graph.
browser: build venv
	WEIR_BIN=$(CURDIR)/$(BIN) WEIR_E2E_PYTHON=$(CURDIR)/$(PY) \
		$(GO) test -tags browser -count=1 -timeout 15m -v ./test/browser/...

test: unit test-postgres e2e ui-test browser

# The store's conformance suite against a private, throwaway PostgreSQL
# (installed from the Debian packages when missing; see .ci/postgres.sh).
.PHONY: test-postgres
test-postgres:
	@set -e; pgenv=$$(.ci/postgres.sh); eval "$$pgenv"; \
	trap '.ci/postgres-stop.sh "$$WEIR_TEST_PGDIR"' EXIT; trap 'exit 130' INT TERM; \
	$(GO) test -count=1 ./internal/store/...

bench: build venv
	WEIR_BIN=$(CURDIR)/$(BIN) WEIR_E2E_PYTHON=$(CURDIR)/$(PY) \
		$(GO) run ./test/bench

clean:
	rm -rf bin $(VENV) ui/node_modules ui/dist/assets ui/dist/app.html
