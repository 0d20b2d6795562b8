// Package events defines what storesight tells the rest of the world and
// how it gets there: the event envelope and its JSON Schemas, a Kafka sink
// that never blocks the camera workers, and an embedded Kafka broker for
// tests and single-box installs.
//
// # Delivery semantics
//
// kafka-go has no idempotent producer, and the sink retries writes whose
// acknowledgement was lost and replays spilled events after an outage, so
// delivery is at least once. Every envelope carries a deterministic id (see
// [ID]) built from the natural key of the fact it reports (store, camera,
// line, track, frame...), so the same fact always gets the same id, even when
// a video file is analysed twice. Consumers must de-duplicate by id.
//
// Ordering is per Kafka key ("store_id/camera_id"): the sink writes from a
// single goroutine, hashes the key to a partition, and replays spilled
// events before accepting new ones into its queue, so one camera's events
// arrive in the order they were published.
//
// # Kafka outages
//
// Publish never waits for Kafka. When the bounded queue is full the event
// is appended to spill.jsonl in Config.SpillDir (one envelope per line,
// readable with jq); the writer replays it in order once Kafka answers,
// and a Close that runs out of time leaves undelivered events there for
// the next run. Events Kafka rejects for good (too large, ...) are kept in
// failed.jsonl beside it.
//
// # Adding an event type
//
// Add a Type constant, a schema file schemas/<type>.schema.json describing
// its data, and a topic in [DefaultTopics]. Schema changes are additive:
// new optional fields only, never a renamed or retyped one.
package events
