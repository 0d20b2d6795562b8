package events

import (
	"context"
	"testing"
	"time"
)

// BenchmarkKafkaSinkThroughput measures events delivered to an embedded
// broker per second, end to end: b.N Publish calls then Close, which
// returns once every event is acknowledged. The queue holds b.N so the
// writer, not the queue, is the limit.
func BenchmarkKafkaSinkThroughput(b *testing.B) {
	for _, bt := range []time.Duration{time.Millisecond, 50 * time.Millisecond} {
		b.Run("batch_timeout="+bt.String(), func(b *testing.B) {
			br := startBroker(b, "storesight.crossings", "storesight.counts")
			envs := make([]Envelope, 64)
			for i := range envs {
				envs[i] = crossingEvent(b, "s1", cameraName(i%8), i)
			}
			s, err := NewKafkaSink(Config{Brokers: br.Addrs(), QueueSize: b.N + 1, BatchTimeout: bt})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				if err := s.Publish(envs[i%len(envs)]); err != nil {
					b.Fatal(err)
				}
			}
			if err := s.Close(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if st := s.Stats(); st.Published != uint64(b.N) {
				b.Fatalf("published %d of %d", st.Published, b.N)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
		})
	}
}

// BenchmarkKafkaSinkPublishCall measures what a camera worker pays per
// Publish: the hand-over to the queue, and the spill-file append used
// while Kafka is down.
func BenchmarkKafkaSinkPublishCall(b *testing.B) {
	e := crossingEvent(b, "s1", "cam-0", 1)
	b.Run("queue", func(b *testing.B) {
		// Kafka is down so the writer does not compete for the CPU: this
		// is the hand-over alone.
		s, err := NewKafkaSink(Config{Brokers: []string{freeAddr(b)}, QueueSize: b.N + 1})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := s.Publish(e); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer cancel()
		s.Close(ctx) // without a spill dir the queued events are dropped
		if st := s.Stats(); st.Dropped != uint64(b.N) || st.Spilled != 0 {
			b.Fatalf("stats %+v, want all %d queued then dropped at Close", st, b.N)
		}
	})
	b.Run("spill", func(b *testing.B) {
		s, err := NewKafkaSink(Config{Brokers: []string{freeAddr(b)}, QueueSize: 1, SpillDir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := s.Publish(e); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer cancel()
		s.Close(ctx) // Kafka is down: the events stay in the spill dir
		if st := s.Stats(); st.Spilled+2 < uint64(b.N) {
			b.Fatalf("stats %+v, want nearly all %d spilled", st, b.N)
		}
	})
}
