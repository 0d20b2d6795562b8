package sms

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/storesight/storesight/alerts"
)

// An answer that arrives while a text is in flight is not followed by a
// retry of that text: after an unclear failure (500) it is recorded as
// unknown, after a clear one (429) as cancelled, and never sent again.
func TestNoRetryAfterAnswerWhileInFlight(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		code   int
		want   string
	}{
		{"server error", http.StatusInternalServerError, 20500, msgUnknown},
		{"rate limited", http.StatusTooManyRequests, 20429, msgCancelled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeTwilio(t)
			f.fail = func(n int, _ url.Values) *failure {
				if n == 1 {
					return &failure{status: tc.status, code: tc.code}
				}
				return nil
			}
			// The first POST waits at the gate, so the answer comes while
			// it is in flight.
			arrived, gate := make(chan struct{}, 8), make(chan struct{})
			toFake := f.client()
			log, _ := testLog(t)
			cfg := baseConfig(t, f, log)
			cfg.HTTPClient = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				if r.Method == http.MethodPost {
					arrived <- struct{}{}
					<-gate
				}
				return toFake.Transport.RoundTrip(r)
			})}
			n := startNotifier(t, cfg)
			n.Notify(step("a1", "entrance", alerts.LevelHuman, 1, alerts.StateRaised))
			<-arrived

			ack := step("a1", "entrance", alerts.LevelHuman, 2, alerts.StateAcknowledged)
			ack.By = "+*******0001"
			n.Notify(ack)
			var closed, inflight bool
			var state string
			n.inspect(t, func() {
				r := n.recs["a1"]
				closed, state, inflight = r.Closed, r.Msgs[0].State, n.inflight[msgID("a1", 0)]
			})
			if !closed || state != msgPending || !inflight {
				close(gate)
				t.Fatalf("before the outcome: closed %v, state %s, in flight %v", closed, state, inflight)
			}
			close(gate)
			eventually(t, "settled", func() bool { return n.settled(t) })

			rec := n.record(t, "a1")
			if m := rec.Msgs[0]; m.State != tc.want || m.Done.IsZero() {
				t.Errorf("text state %s (done %v), want %s", m.State, m.Done, tc.want)
			}
			if p, m := len(f.postsMade()), len(f.messages()); p != 1 || m != 0 {
				t.Errorf("posts %d, messages at Twilio %d; want 1 and 0", p, m)
			}
			if s := n.Stats(); s.Retries != 0 || s.Sent != 0 {
				t.Errorf("stats %+v, want no retry and nothing sent", s)
			}
		})
	}
}
