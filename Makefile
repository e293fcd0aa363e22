# jcsgw — see README.md.
GO ?= go
BIN := bin/jcsgw

.PHONY: all build run test vet fmt e2e e2e-awscli fuzz bench clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/jcsgw

# Starts the gateway on 127.0.0.1:7890 with data under ./data.
run: build
	./$(BIN) serve

# The whole suite, as CI runs it (must stay under 10 minutes on 2 cores).
test:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 9m ./...

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

# Real aws CLI against a fresh server (installs awscli with pip if missing).
e2e-awscli: build
	bash test/e2e/awscli.sh

e2e: e2e-awscli

# Fuzz targets, each for a bounded time.
FUZZTIME ?= 10s
fuzz:
	$(GO) test ./gateway -run '^$$' -fuzz '^FuzzKeyMapping$$' -fuzztime $(FUZZTIME)

clean:
	rm -rf bin
