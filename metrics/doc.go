// Package metrics exposes a running store process to Prometheus and to
// orchestrators: /metrics, /healthz (liveness) and /readyz (readiness).
//
// Everything lives on the process's own prometheus.Registry (never the
// global default, so tests and embedded uses do not collide) with the Go
// runtime and process collectors, and every series carries the store as a
// constant label.
//
// Camera counters are not kept twice: a collector reads each camera's
// pipeline.Stats snapshot and, for live cameras, its video.LiveStats at
// scrape time. A frame's way through a camera can be followed with:
//
//	storesight_camera_frames_decoded_total           pictures out of the decoder
//	storesight_camera_frames_dropped_total{stage="source"}  not read in time by the pipeline (live only)
//	storesight_camera_frames_received_total          taken by the pipeline
//	storesight_camera_frames_sampled_total           skipped for the analysis frame rate
//	storesight_camera_frames_gated_total             no motion, detector not run
//	storesight_camera_frames_dropped_total{stage="queue"}   worker fell behind
//	storesight_camera_detect_errors_total            detection failed
//	storesight_camera_frames_analysed_total          detected, tracked, counted
//
// Per-frame timings (storesight_detect_seconds,
// storesight_frame_latency_seconds) and crossings
// (storesight_crossings_total) come from the pipeline.Output returned by
// Metrics.Output. Kafka sink counters are read from events.Stats.
package metrics
