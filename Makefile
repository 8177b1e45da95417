# imperial — see README.md. `make run` and `make test` are the two commands that matter.
GO      ?= go
BIN     := bin/imperial
PKGS    := ./...
# Not `norecover`: ergo v1.999.310 dereferences a nil Network() in
# application.terminate (node/application.go:222) when an application ends while
# its node is stopping; ergo recovers that panic itself, norecover turns it into a
# crash of whichever test binary stops a node at the wrong moment.
TAGS    := peers

.PHONY: all build run test unit vet imports peers bench fuzz clean

all: build

build:
	$(GO) build -o $(BIN) ./rel/imperial

# Runs imperial on its embedded default configuration.
run: build
	./$(BIN)

# Installs the real peers (Debian packages, once), then vets and runs every test,
# the real-peer ones included.
# ergo v1.999.310 itself has data races (process.run against Pool.ProcessInit and
# ProcessInfo, Stop against spawn), so -race runs only on packages whose code and
# tests do not link ergo's node runtime (ergo.services/ergo/node; code that only
# uses its types starts no node); the others run without it.
test: peers build vet imports
	@pure=$$($(GO) list -tags '$(TAGS)' -test -f '{{.ImportPath}}|{{join .Deps " "}}' $(PKGS) \
	  | awk -F'|' '{p=$$1; sub(/ \[.*\]$$/,"",p); sub(/\.test$$/,"",p); sub(/_test$$/,"",p); \
	      if ($$2 ~ /ergo\.services\/ergo\/node( |$$)/) e[p]=1; else if (!(p in e)) e[p]=0} \
	      END {for (p in e) if (e[p]==0) print p}' | sort); \
	actors=$$($(GO) list $(PKGS) | grep -vxF "$$pure"); \
	echo "== race-checked (no ergo node runtime in the package or its tests): $$(echo $$pure | wc -w) packages"; \
	$(GO) test -race -tags '$(TAGS)' -timeout 25m -count=1 $$pure && \
	echo "== with ergo's node runtime: $$(echo $$actors | wc -w) packages" && \
	$(GO) test -tags '$(TAGS)' -timeout 25m -count=1 $$actors

# Unit tests only: no real peers needed.
unit:
	$(GO) test -count=1 $(PKGS)

peers:
	bash rel/scripts/install-peers.sh

vet:
	$(GO) vet -tags '$(TAGS)' $(PKGS)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# The import rules of shared/specs/style.md §5: pure packages never import ergo
# or the actor layers. Prints each forbidden edge and fails if there is one.
imports:
	@M=$$($(GO) list -m); out=$$($(GO) list -f '{{range .Imports}}{{$$.ImportPath}} -> {{.}}{{"\n"}}{{end}}' \
	  ./node/etf/... ./bertrpc/... ./ernie/... ./actors/wire/... ./apps/config/... 2>/dev/null \
	  | grep -E " -> (ergo\.services/|$$M/(actors|apps|supervisors|rel|node)(/|\$$))" \
	  | grep -vE " -> $$M/(actors/wire|apps/config|node/etf)(/|\$$)"); \
	  if [ -n "$$out" ]; then echo "forbidden imports:"; echo "$$out"; exit 1; fi

# Speed against the real anchors, side by side in one run (never part of test).
bench: peers build
	$(GO) run ./rel/bench -all

# A short run of every native fuzz target.
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 10s $$pkg || exit 1; \
	  done; done

clean:
	rm -rf bin
