package apiauth

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestGuard(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	cases := []struct {
		name, token, remote, auth string
		want                      int
	}{
		{"loopback without token", "", "127.0.0.1:5000", "", http.StatusTeapot},
		{"ipv6 loopback", "", "[::1]:5000", "", http.StatusTeapot},
		{"remote without token", "", "10.0.0.7:5000", "", http.StatusForbidden},
		{"token missing", "s3cret", "127.0.0.1:5000", "", http.StatusUnauthorized},
		{"token wrong", "s3cret", "127.0.0.1:5000", "Bearer s3cre", http.StatusUnauthorized},
		{"token not bearer", "s3cret", "10.0.0.7:5000", "s3cret", http.StatusUnauthorized},
		{"token right from anywhere", "s3cret", "10.0.0.7:5000", "Bearer s3cret", http.StatusTeapot},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/analytics/risk", nil)
			r.RemoteAddr = tc.remote
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			w := httptest.NewRecorder()
			Guard(tc.token, "test", ok).ServeHTTP(w, r)
			if w.Code != tc.want {
				t.Fatalf("status %d, want %d", w.Code, tc.want)
			}
			if tc.want == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") != `Bearer realm="test"` {
				t.Fatalf("no challenge: %v", w.Header())
			}
		})
	}
}
