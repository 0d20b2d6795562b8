// Package benchmarks measures storesight on this machine. Run (the
// `storesight bench` command) times every model at each thread count next
// to a bare ONNX Runtime session on the same file, in the same run, so the
// detector's overhead is a ratio that holds on a loaded machine; it adds the
// tracker's speed and, from one accuracy.Evaluate run per model on the
// labelled sample, end-to-end fps and accuracy, and writes bench.md,
// bench.json and latency-against-accuracy plots. The go test benchmarks here
// cover the whole `analyze` path and motion gating; per-component ones live
// with their packages. `make bench` runs them all into benchmarks/results.
package benchmarks
