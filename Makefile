# The test command of the README. Tests need PostgreSQL and Redis (see .ci/run, which starts them).
GO ?= go
# The Go that builds and tests dispatch: its standard library has the fixes govulncheck asks for.
# The go command fetches it from the module proxy once; `make GOTOOLCHAIN=local` uses the machine's.
GOTOOLCHAIN = go1.27.3
export GOTOOLCHAIN
STATICCHECK = honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: test vet staticcheck build demo bench-import bench-seed screenshots

test: vet staticcheck
	$(GO) test -race -count=1 ./...

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

staticcheck:
	$(GO) run $(STATICCHECK) ./...

build:
	$(GO) build -o dispatch ./cmd/dispatch

demo: build
	./dispatch demo

# The console's screenshots in docs/console, taken anew by its browser tests (Chromium: /usr/bin/chromium
# or DISPATCH_CHROMIUM; PostgreSQL and Redis as for make test).
screenshots:
	mkdir -p docs/console
	rm -f docs/console/*.png
	DISPATCH_SCREENSHOTS=$(CURDIR)/docs/console $(GO) test -count=1 -run '^TestConsole' ./cmd/dispatch
