package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/storesight/storesight/events"
)

// kafkaCollector reads the Kafka sink's counters at scrape time.
type kafkaCollector struct {
	mu    sync.Mutex
	stats func() events.Stats // nil until AddKafka

	published, spilled, replayed, failed, dropped, writeErrors, queued, spillBytes *prometheus.Desc
}

func newKafkaCollector() *kafkaCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("storesight_kafka_"+name, help, nil, nil)
	}
	return &kafkaCollector{
		published: d("events_published_total",
			"Events acknowledged by Kafka (replayed ones included)."),
		spilled: d("events_spilled_total",
			"Events written to the local spill file because the in-memory queue was full or older events were still waiting there; a rise means Kafka is slow or unreachable."),
		replayed: d("events_replayed_total",
			"Events read back from the spill file and published."),
		failed: d("events_failed_total",
			"Events given up on because Kafka rejected them for good or a spill line was unreadable; they are kept in failed.jsonl in the spill directory."),
		dropped: d("events_dropped_total",
			"Events lost: queue full without a spill directory, spill file not writable, or shutdown ran out of time. Should stay 0."),
		writeErrors: d("write_errors_total",
			"Failed produce attempts to Kafka; each is retried with backoff."),
		queued: d("events_queued",
			"Events waiting in the in-memory queue for the Kafka writer."),
		spillBytes: d("spill_bytes",
			"Bytes of spilled events not yet replayed to Kafka."),
	}
}

func (c *kafkaCollector) set(stats func() events.Stats) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats = stats
}

// Describe sends every descriptor, so the registry checks the metrics this
// collector produces for consistency.
func (c *kafkaCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.published, c.spilled, c.replayed, c.failed, c.dropped, c.writeErrors, c.queued, c.spillBytes,
	} {
		ch <- d
	}
}

// Collect emits nothing until a sink was added: a process without Kafka
// has no Kafka series rather than zeros that look like a healthy sink.
func (c *kafkaCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	stats := c.stats
	c.mu.Unlock()
	if stats == nil {
		return
	}
	st := stats()
	counter := func(d *prometheus.Desc, v uint64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	counter(c.published, st.Published)
	counter(c.spilled, st.Spilled)
	counter(c.replayed, st.Replayed)
	counter(c.failed, st.Failed)
	counter(c.dropped, st.Dropped)
	counter(c.writeErrors, st.WriteErrors)
	gauge(c.queued, float64(st.Queued))
	gauge(c.spillBytes, float64(st.SpillBytes))
}
