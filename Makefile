# Paotui: developer and CI entry points. `make` (or `make help`) lists the targets.
# Needs GNU make, bash and Go; `make test` and `make run` start PostgreSQL and Redis themselves
# through .ci/services.sh (which writes the URLs it settled on to .data/services.env).

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
MAKEFLAGS += --no-print-directory

# Go from /usr/local/go when it is not on PATH yet.
ifeq ($(shell command -v go 2>/dev/null),)
export PATH := $(PATH):/usr/local/go/bin
endif

GO ?= go
BIN := bin/paotui
SERVICES := .ci/services.sh
# Run after `$(SERVICES) ensure`, in the same shell line as the command that needs the services.
LOAD_ENV := . ./.data/services.env

# Packages for test and bench, e.g. PKG=./internal/store/...
PKG ?= ./...
TEST_TIMEOUT ?= 20m
TESTFLAGS ?=
# -race needs cgo (a C compiler); without one the tests run without it, with a warning.
ifeq ($(shell $(GO) env CGO_ENABLED 2>/dev/null),1)
RACE ?= -race
else
RACE ?=
endif
# Benchmarks: BENCH=regex, BENCHTIME=1s or 100x, COUNT=6 for benchstat.
BENCH ?= .
BENCHTIME ?= 1s
COUNT ?= 1
IMAGE ?= paotui

# Demo data for `make run`.
ADMIN_EMAIL ?= admin@paotui.local
ADMIN_PASSWORD ?= paotui-admin-dev

# Go files outside .git, .data (private database files), bin and node_modules.
GOFILES := find . \( -path ./.git -o -path ./.data -o -path ./bin -o -name node_modules \) -prune -o -name '*.go' -type f -print0

.PHONY: help build web web-test run test bench fmt fmt-check vet lint tidy clean clean-data services services-stop docker e2e generate generate-check

help: ## list the targets
	@echo "Paotui make targets:"
	@awk 'BEGIN { FS = ":.*## " } /^[a-zA-Z0-9_.-]+:.*## / { printf "  %-14s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)
	@echo
	@echo "Overrides: PKG=./internal/store/... TESTFLAGS=-v RACE= BENCH=regex BENCHTIME=1s COUNT=1 IMAGE=paotui"

build: ## build bin/paotui; once web/ is a workspace, the web apps first, embedded from web/dist
	@if [ -f web/package.json ]; then \
		if command -v npm >/dev/null; then $(MAKE) web; \
		else echo "build: npm not found; embedding web/dist as it is (install Node.js and npm to rebuild the web apps)"; fi; \
	fi
	@tags=; \
	if [ -d web/dist ] && [ -n "$$(ls -A web/dist)" ]; then tags=webdist; \
	else echo "build: no web/dist; the binary serves the API only (web paths explain how to build the apps)"; fi; \
	echo "$(GO) build -trimpath -tags '$$tags' -o $(BIN) ./cmd/paotui"; \
	$(GO) build -trimpath -tags "$$tags" -o $(BIN) ./cmd/paotui

web: ## build the web apps into web/dist (npm ci when the lock file changed; checks size budgets)
	@if [ -f web/package.json ]; then \
		cd web; \
		if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then npm ci; fi; \
		npm run build; \
	else \
		echo "web: web/package.json not present yet; nothing to build"; \
	fi

web-test: ## typecheck the web workspace and run its unit tests (Vitest)
	@cd web; \
	if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then npm ci; fi; \
	npm run typecheck; \
	npm test

run: build ## start services, migrate, seed the demo tenant, serve with the worker on :8080
	$(SERVICES) ensure
	$(LOAD_ENV); \
	$(BIN) migrate; \
	$(BIN) admin create --email '$(ADMIN_EMAIL)' --password '$(ADMIN_PASSWORD)'; \
	$(BIN) tenant create --slug demo --name "演示大学跑腿" --owner-phone 13800000000 --blueprint demo --wait 2m; \
	$(BIN) demo logins; \
	exec $(BIN) serve --worker

test: lint ## gofmt + vet; the web client is current, web typecheck + unit tests; go test -race every package
	@if [ -f web/package.json ]; then \
		if command -v npm >/dev/null; then $(MAKE) --no-print-directory generate-check web-test; \
		else echo "test: npm not found; the web workspace is not checked (install Node.js and npm)"; [ "$$CI" != true ]; fi; \
	fi
	$(SERVICES) ensure
	$(if $(RACE),,@echo "test: WARNING: running without -race (cgo is off: install gcc, or set CGO_ENABLED=1)")
	$(LOAD_ENV); $(GO) test $(RACE) -count=1 -timeout $(TEST_TIMEOUT) $(TESTFLAGS) $(PKG)

bench: ## start services, run benchmarks (BENCH=regex PKG=./internal/store/... BENCHTIME=1s COUNT=1)
	$(SERVICES) ensure
	$(LOAD_ENV); $(GO) test -run '^$$' -bench '$(BENCH)' -benchtime=$(BENCHTIME) -count=$(COUNT) -benchmem -p 1 -timeout 60m $(PKG)

fmt: ## gofmt -w the Go files
	@$(GOFILES) | xargs -0 -r gofmt -l -w

fmt-check: ## fail if gofmt would change a file
	@out="$$($(GOFILES) | xargs -0 -r gofmt -l)"; \
	if [ -n "$$out" ]; then echo "gofmt: these files need formatting (run make fmt):"; echo "$$out"; exit 1; fi

vet: ## go vet every package
	$(GO) vet ./...

lint: fmt-check vet ## gofmt check and go vet

tidy: ## go mod tidy
	$(GO) mod tidy

generate: ## go generate, then the OpenAPI document and the web API client typed by it
	$(GO) generate ./...
	$(GO) run ./cmd/paotui openapi > web/packages/api/openapi.json.tmp || { rm -f web/packages/api/openapi.json.tmp; exit 1; }
	mv web/packages/api/openapi.json.tmp web/packages/api/openapi.json
	@if [ ! -f web/node_modules/.package-lock.json ]; then npm --prefix web ci; fi
	npm --prefix web run generate

generate-check: generate ## fail when the committed OpenAPI document or web client is stale
	@git diff --exit-code --stat -- web/packages/api/openapi.json web/packages/api/src/schema.d.ts || \
		{ echo "generate-check: the API changed; run make generate and commit the result"; exit 1; }

services: ## make PostgreSQL and Redis answer (starts or installs them as needed)
	$(SERVICES) ensure

services-stop: ## stop the private PostgreSQL/Redis under .data/ (system services are left alone)
	$(SERVICES) stop

clean: ## remove build output
	rm -rf bin coverage.out

clean-data: services-stop ## stop the private services and delete .data/ (their databases)
	rm -rf .data

docker: ## build the container image (IMAGE=paotui)
	docker build -t $(IMAGE) .

e2e: build ## browser tests: headless Chromium against bin/paotui on its own database (E2E=name-filter)
	$(SERVICES) ensure
	$(LOAD_ENV); node web/e2e/run.mjs $(E2E)
