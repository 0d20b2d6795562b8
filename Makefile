# storesight. `make run` and `make test` work on a fresh Debian 12 machine:
# `deps` installs what is missing (Debian packages, libonnxruntime from the
# onnxruntime-node npm package, models with sha256 checks) and is cheap when
# everything is there.

GO      ?= go
BIN     := bin/storesight
CONFIG  ?= configs/vtest.yml

export CGO_ENABLED := 1
export STORESIGHT_MODEL_DIR ?= $(abspath ../shared/models)
export STORESIGHT_ORT_LIB   ?= $(CURDIR)/.deps/lib/libonnxruntime.so

# Packages that run goroutines: tested with the race detector.
RACE_PKGS := ./video/ ./avcodec/ ./internal/rtsptest/ ./pipeline/ ./events/ ./metrics/ ./motion/ ./app/ ./alerts/ ./sms/ ./evidence/ ./pos/ ./analytics/

.PHONY: all deps models build run run-pos test test-e2e bench bench-live lint clean

all: build

deps:
	@bash scripts/deps.sh
	@$(MAKE) --no-print-directory models

models:
	@$(GO) run ./cmd/storesight models install --from "$(STORESIGHT_MODEL_DIR)" --to .deps/models

build: deps
	$(GO) build -o $(BIN) ./cmd/storesight

run: build
	./$(BIN) run -config $(CONFIG)

# `make run` plus POS: two registers, analytics, and the demo transactions
# of testdata/pos/demo.ndjson posted to POST /pos/transactions once the
# process listens (configs/vtest-pos.yml says what to expect).
run-pos: build
	@./$(BIN) run -config configs/vtest-pos.yml & pid=$$!; \
	for i in $$(seq 100); do curl -sf -o /dev/null http://127.0.0.1:9100/healthz && break; sleep 0.2; done; \
	curl -s -X POST -H 'Content-Type: application/x-ndjson' --data-binary @testdata/pos/demo.ndjson \
	  http://127.0.0.1:9100/pos/transactions; echo; \
	wait $$pid

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go') 2>/dev/null); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

test: build lint
	$(GO) test -race -count=1 $(RACE_PKGS)
	@# testdata/mot/tools checks the labelled MOT sample against crossings.csv
	@# (go list ./... skips testdata directories).
	$(GO) test -count=1 -timeout 15m $$($(GO) list ./... | grep -v /e2e) ./testdata/mot/tools/
	@# End-to-end tests run alone: the RTSP ones play video in real time and
	@# compare counts, which other packages' tests would starve of CPU.
	$(GO) test -count=1 -timeout 15m ./e2e/

# Component benchmarks (go test -bench -> latest.txt), then `storesight bench`:
# every model x threads 1,2 next to a bare ONNX Runtime session, tracker
# speed, end-to-end fps and accuracy on testdata/mot/vtest-s01 -> bench.md,
# bench.json and the latency-against-accuracy plots. Under 10 min on 2 cores.
bench: build
	@mkdir -p benchmarks/results
	@# bash for pipefail: a failing benchmark must fail the target, not
	@# vanish into tee.
	bash -o pipefail -c '{ $(GO) test -run "^$$" -bench . -benchtime 20x -timeout 30m ./detectors/ ./tracker/ ./counting/ ./events/ ./pos/ && \
	  $(GO) test -run "^$$" -bench . -benchtime 1x -timeout 30m ./benchmarks/ ; } 2>&1 | { grep -v -e level=INFO -e " INFO " || true; } | tee benchmarks/results/latest.txt'
	./$(BIN) bench -out benchmarks/results

# N live RTSP cameras (ffmpeg -> local relay -> storesight): writes
# benchmarks/results/live.md. Rows and window: STORESIGHT_BENCH_LIVE_CAMS,
# STORESIGHT_BENCH_LIVE_SECONDS (see benchmarks/live_test.go).
bench-live: build
	@mkdir -p benchmarks/results
	STORESIGHT_BENCH_LIVE=1 $(GO) test -run '^$$' -bench BenchmarkLive -benchtime 1x -timeout 30m ./benchmarks/ 2>&1 | grep -v 'level=INFO'

clean:
	rm -rf bin out
