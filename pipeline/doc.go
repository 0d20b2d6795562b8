// Package pipeline runs cameras: per camera a decoder goroutine feeds a
// bounded queue, and a worker samples, detects (through a shared detector
// pool), tracks and counts, in frame order, handing each analysed frame's
// results to the outputs.
//
// Goroutine ownership: Run starts two goroutines per camera and returns only
// when all of them have stopped. Cancelling Run's context stops decoding at
// once; the workers finish the frame in hand, flush their counters (pending
// crossings, last aggregate window) and stop. Frames still queued are
// released unanalysed and counted as dropped.
package pipeline
