// Package alerts turns the stream of tracked objects into alerts for
// people: rules per camera and zone (loitering, weapon, after-hours
// intrusion, occupancy), verification levels with multi-frame
// confirmation, a lifecycle (raised, updated, resolved, acknowledged,
// false alarm) published as events with deterministic ids, and a JPEG
// snapshot of each alert's best frame.
package alerts
