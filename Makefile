# Cashbell. `make run` and `make test` install what they need on Debian/Ubuntu.
GO        ?= go
BIN       ?= bin/cashbell
GOBIN     := $(shell $(GO) env GOPATH)/bin
STRIPE_MOCK_VERSION := v0.203.0
FYNE_TOOLS_VERSION  := v1.7.4
# FyneApp.toml's [Migrations] fyneDo = true promises that every call into
# Fyne from another goroutine goes through fyne.Do; the fyne tool turns that
# into this tag, which a plain go build does not read from FyneApp.toml.
GUI_TAGS := migrated_fynedo

# Debian packages: building Fyne (cgo, GLFW), a display and a session bus for
# the tests, and a notification daemon for screenshots.
APT_BUILD := gcc libc6-dev pkg-config libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev libgl1-mesa-dev
APT_TEST  := xvfb xauth dbus dbus-bin libglib2.0-bin imagemagick xdotool
APT_SHOTS := dunst haskell-gtk-sni-tray-utils haskell-status-notifier-item-utils
# Cross-compiling the GUI for Windows: Debian's mingw-w64 (the win32 thread
# model, which x86_64-w64-mingw32-gcc points at).
APT_WINDOWS := gcc-mingw-w64-x86-64-win32

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all run build build-headless build-windows vet-cross test bench lint package screenshots soak soak-run deps deps-test deps-shots deps-windows deps-wine test-windows clean

all: build

## deps: install the Debian packages needed to build (skips what is there)
deps:
	@missing=$$(for p in $(APT_BUILD); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then echo "installing: $$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; fi

## deps-test: also what the tests and screenshots need, and stripe-mock
deps-test: deps
	@missing=$$(for p in $(APT_TEST); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then echo "installing: $$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; fi
	@[ -x "$(GOBIN)/stripe-mock" ] || $(GO) install github.com/stripe/stripe-mock@$(STRIPE_MOCK_VERSION)

build: deps
	$(GO) build -tags $(GUI_TAGS) -o $(BIN) .

## build-headless: a binary without the GUI (15 MB instead of 42), for servers
build-headless:
	$(GO) build -tags nogui -o bin/cashbell-headless .

## deps-windows: the mingw-w64 cross-compiler for build-windows
deps-windows:
	@missing=$$(for p in $(APT_WINDOWS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then echo "installing: $$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; fi

## build-windows: the GUI for windows/amd64 (bin/cashbell.exe, no console
## window) and the command line (bin/cashbell-cli.exe, no cgo), on Linux
build-windows: deps-windows
	GOOS=windows GOARCH=amd64 CGO_ENABLED=1 CC=x86_64-w64-mingw32-gcc $(GO) build -tags $(GUI_TAGS) -ldflags "-H windowsgui" -o bin/cashbell.exe .
	GOOS=windows GOARCH=amd64 CGO_ENABLED=0 $(GO) build -tags nogui -o bin/cashbell-cli.exe .

## deps-wine: Wine 8 (Debian's wine64) to run the Windows binaries
deps-wine: deps-windows deps-test
	@dpkg -s wine64 >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends wine64; }

## test-windows: run bin/cashbell.exe and bin/cashbell-cli.exe under Wine 8
## against the simulator, in a throw-away prefix (scripts/wine)
test-windows: build-windows deps-wine
	CASHBELL_WINE_BIN=$(CURDIR)/bin $(GO) test -count=1 -v -timeout 10m ./internal/testsupport/wine/

## vet-cross: go vet for Windows (with cgo) and for macOS (every package that
## needs no cgo, and the command line)
vet-cross: deps-windows
	GOOS=windows GOARCH=amd64 CGO_ENABLED=1 CC=x86_64-w64-mingw32-gcc $(GO) vet ./...
	GOOS=darwin GOARCH=arm64 CGO_ENABLED=0 $(GO) vet $$(GOOS=darwin GOARCH=arm64 CGO_ENABLED=0 $(GO) list -e -f '{{if not .DepsErrors}}{{if not .Error}}{{.ImportPath}}{{end}}{{end}}' ./...)
	GOOS=darwin GOARCH=arm64 CGO_ENABLED=0 $(GO) vet -tags nogui .

## run: build and start the tray app (add --demo through ARGS="--demo")
run: build
	./$(BIN) $(ARGS)

## test: vet, then every package's tests with the race detector
test: deps-test
	$(GO) vet ./...
	PATH="$(GOBIN):$$PATH" $(GO) test -race -count=1 -timeout 15m ./...
	$(MAKE) --no-print-directory soak-run SOAK=30s

## bench: speed and memory figures
bench: deps-test
	PATH="$(GOBIN):$$PATH" $(GO) test -run '^$$' -bench . -benchtime 1x -count 1 -timeout 20m ./notifier/... ./app/ .

## soak: two minutes of events, faults and SIGKILLs (SOAK=30s for CI's
## run); prints what a person saw, and fails on anything lost or duplicated
SOAK ?= 2m
soak: deps-test soak-run
soak-run:
	@log=$$(mktemp); CASHBELL_SOAK=$(SOAK) $(GO) test -count=1 -run TestSoak -timeout 10m -v ./internal/testsupport/soak/ > $$log 2>&1; \
	  status=$$?; sed -n '/^soak:/,/polls that failed/p' $$log; \
	  if [ $$status != 0 ]; then grep -E 'soak_test.go|FAIL|panic' $$log | tail -60; fi; rm -f $$log; exit $$status

lint: deps
	$(GO) vet ./...
	test -z "$$(gofmt -l .)" || { gofmt -l .; echo "run gofmt -w on the files above"; exit 1; }
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

## package: a desktop package through fyne.io/tools
package: deps
	$(GO) run fyne.io/tools/cmd/fyne@$(FYNE_TOOLS_VERSION) package --os linux --release

## deps-shots: a notification daemon and a tray host, for screenshots
deps-shots: deps-test
	@missing=$$(for p in $(APT_SHOTS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then echo "installing: $$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; fi

## screenshots: PNGs of every window, light and dark, into docs/screenshots
screenshots: build deps-shots
	./scripts/screenshots.sh $(BIN) docs/screenshots/light light
	./scripts/screenshots.sh $(BIN) docs/screenshots/dark dark

clean:
	rm -rf bin
