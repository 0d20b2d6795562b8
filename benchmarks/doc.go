// Package benchmarks measures storesight end to end on this machine: the
// whole `analyze` path on the sample video next to a bare ONNX Runtime
// session on the same model in the same run, so the pipeline's overhead is
// a ratio that does not depend on how loaded the machine is. Per-component
// benchmarks live with their packages (detectors, tracker, counting,
// events); `make bench` runs them all and writes benchmarks/results.
package benchmarks
