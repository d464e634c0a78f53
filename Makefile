# Patchbay. The two commands: `make run` and `make test`.
#
#   make run        build and start the app (the headless server when there is no display)
#   make test       install test dependencies, build everything, run every test
#   make build      desktop and headless binaries in bin/
#   make bench      benchmarks; figures go to BENCHMARKS.md
#   make cross      cross-compile the Windows desktop and darwin headless binaries

SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
DESKTOP_TAGS := desktop,production,webkit2_41
BIN := bin
FRONTEND_SRC := $(shell find frontend/src frontend/index.html frontend/package.json frontend/vite.config.* 2>/dev/null)

.PHONY: run build desktop headless frontend deps test-deps test test-go test-frontend test-e2e test-window vet cross bench clean

run: deps frontend
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
		$(MAKE) --no-print-directory desktop && exec $(BIN)/patchbay; \
	else \
		echo "No display: starting the headless server."; \
		$(MAKE) --no-print-directory headless && exec $(BIN)/patchbay-headless serve; \
	fi

build: frontend desktop headless

deps:
	@.ci/install-deps.sh

test-deps: deps

frontend: frontend/dist/index.html

frontend/dist/index.html: $(FRONTEND_SRC)
	@if [ -f frontend/package.json ]; then \
		.ci/install-deps.sh npm && cd frontend && npm run --silent build; \
	else \
		echo "frontend: no frontend/package.json; the window shows a placeholder"; \
	fi

desktop: frontend
	CGO_ENABLED=1 $(GO) build -tags $(DESKTOP_TAGS) -ldflags '$(LDFLAGS)' -o $(BIN)/patchbay .

headless: frontend
	CGO_ENABLED=0 $(GO) build -tags headless -ldflags '$(LDFLAGS)' -o $(BIN)/patchbay-headless .

vet:
	@files=$$(gofmt -l $$(git ls-files -co --exclude-standard '*.go')); test -z "$$files" || { echo "gofmt needed: $$files"; exit 1; }
	$(GO) vet ./...
	$(GO) vet -tags $(DESKTOP_TAGS) ./app/...

# Go tests run inside a private, unlocked gnome-keyring (the real Secret
# Service), with the headless binary built for the end-to-end tests.
test-go: headless
	PATCHBAY_TEST_BINARY=$(CURDIR)/$(BIN)/patchbay-headless .ci/with-keyring $(GO) test -race -timeout 20m ./...

test-frontend:
	@if [ -f frontend/package.json ]; then cd frontend && npm run --silent test; fi

test-e2e: headless
	@if [ -f frontend/e2e/run.mjs ]; then PATCHBAY_TEST_BINARY=$(CURDIR)/$(BIN)/patchbay-headless .ci/with-keyring node frontend/e2e/run.mjs; fi

test-window: desktop
	@if [ -x .ci/window-test.sh ]; then .ci/window-test.sh $(BIN)/patchbay; fi

cross: frontend
	GOOS=windows GOARCH=amd64 CGO_ENABLED=0 $(GO) build -tags desktop,production -ldflags '$(LDFLAGS)' -o $(BIN)/patchbay-windows-amd64.exe .
	GOOS=darwin GOARCH=arm64 CGO_ENABLED=0 $(GO) build -tags headless -ldflags '$(LDFLAGS)' -o $(BIN)/patchbay-headless-darwin-arm64 .

test: deps frontend vet test-go test-frontend test-e2e test-window cross
	@echo "make test: all tests passed"

bench: deps headless desktop
	.ci/bench.sh
	.ci/window-mem.sh $(BIN)/patchbay --write

clean:
	rm -rf $(BIN) frontend/dist/assets frontend/dist/index.html
