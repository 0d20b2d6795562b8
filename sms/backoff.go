package sms

import (
	"math/rand/v2"
	"time"
)

// maxRetryAfter caps how long a 429's Retry-After can hold a text back:
// an alert older than that is better retried against the limit than lost
// in a queue.
const maxRetryAfter = 10 * time.Minute

// backoff is the wait after the attempt-th failed attempt (from 1):
// exponential between lo and hi with equal jitter, half fixed so a retry
// is never immediate and half random so that texts failing together do
// not retry together. A Retry-After longer than that is honoured.
func backoff(attempt int, lo, hi, retryAfter time.Duration) time.Duration {
	d := lo
	for i := 1; i < attempt && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	d = d/2 + rand.N(d/2+1)
	return max(d, min(retryAfter, maxRetryAfter))
}
