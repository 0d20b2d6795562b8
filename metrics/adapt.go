package metrics

import (
	"time"

	"github.com/storesight/storesight/pipeline"
)

// The pipeline's types grow as stages are added. Reading them only through
// these functions keeps the collector and the output in step with one edit
// here when a field is added or renamed.

// stageCounts is what the camera collector exports from a pipeline
// snapshot.
type stageCounts struct {
	received, sampled, gated, dropped, analysed, errors int64
}

func stagesOf(s pipeline.StatsSnapshot) stageCounts {
	return stageCounts{
		received: s.Decoded, // frames the pipeline took from its source
		sampled:  s.Sampled,
		gated:    s.Gated,
		dropped:  s.Dropped,
		analysed: s.Analysed,
		errors:   s.Errors,
	}
}

// resultTimes returns a result's detector time and end-to-end latency; ok
// is false for each one the result does not carry. A zero duration means
// not measured: final results carry no frame, and frames without a receive
// time have no latency.
func resultTimes(r *pipeline.Result) (detect, latency time.Duration, detectOK, latencyOK bool) {
	if r.Final {
		return 0, 0, false, false
	}
	return r.Detect, r.Latency, r.Detect > 0, r.Latency > 0
}
