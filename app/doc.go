// Package app turns a validated configuration into running parts: model,
// detector pool, cameras, Kafka sink (or the embedded broker), outputs; it
// is what `storesight run` and `storesight analyze` share. Everything that
// can be checked before frames flow (model file and checksum, video
// readable, lines inside the frame, broker address free) is checked in New,
// so bad input fails fast with a clear error and nothing half-started.
package app
