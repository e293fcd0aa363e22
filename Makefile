# jcsgw — see README.md.
GO ?= go
BIN := bin/jcsgw

.PHONY: all build run test vet fmt e2e e2e-awscli fuzz bench bench-large clean

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

# Real clients (aws CLI, boto3, rclone, s3cmd, s3fs, a native JCS client)
# against fresh servers; rewrites the README's client table from the results.
e2e:
	E2E_README=$(CURDIR)/README.md $(GO) test -count=1 -timeout 30m -v ./test/e2e

# The aws CLI alone (pip-installs awscli if the machine has none).
e2e-awscli:
	@command -v aws >/dev/null || python3 -m pip install --quiet awscli
	$(GO) test -count=1 -timeout 20m -v -run 'TestAWSCLI' ./test/e2e

# Fuzz targets, each for a bounded time.
FUZZTIME ?= 10s
fuzz:
	$(GO) test ./gateway -run '^$$' -fuzz '^FuzzKeyMapping$$' -fuzztime $(FUZZTIME)

clean:
	rm -rf bin
