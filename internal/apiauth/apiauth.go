// Package apiauth is the one rule every storesight HTTP API that changes
// state or shows personal data follows: with an API token configured, a
// request needs "Authorization: Bearer <token>"; without one, only callers
// on this host (loopback) are served, so a store's network cannot reach
// what nobody protected.
package apiauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"strings"
)

// Verdict says whether a request may go on and, if not, the HTTP status
// to answer with (401: no or wrong token; 403: not loopback).
type Verdict int

const (
	// Allowed: serve the request.
	Allowed Verdict = 0
	// NeedToken: answer 401 with a WWW-Authenticate header.
	NeedToken Verdict = http.StatusUnauthorized
	// NotLocal: answer 403.
	NotLocal Verdict = http.StatusForbidden
)

// Check applies the rule to r.
func Check(r *http.Request, token string) Verdict {
	if token != "" {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		// Hashing first makes the comparison's time independent of the
		// token's length as well as its content.
		want, have := sha256.Sum256([]byte(token)), sha256.Sum256([]byte(got))
		if !ok || subtle.ConstantTimeCompare(want[:], have[:]) != 1 {
			return NeedToken
		}
		return Allowed
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return NotLocal
	}
	return Allowed
}

// Challenge sets the WWW-Authenticate header of a 401 for realm.
func Challenge(w http.ResponseWriter, realm string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`"`)
}

// Guard serves h only to requests the rule allows; others get a plain-text
// 401 or 403 naming what is missing.
func Guard(token, realm string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch Check(r, token) {
		case NeedToken:
			Challenge(w, realm)
			http.Error(w, "a valid bearer token is required", http.StatusUnauthorized)
		case NotLocal:
			http.Error(w, "without an API token, this API is served only to this host", http.StatusForbidden)
		default:
			h.ServeHTTP(w, r)
		}
	})
}
