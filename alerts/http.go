package alerts

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/storesight/storesight/internal/apiauth"
)

// maxBy bounds the by field: a name or a phone number, not a document.
const maxBy = 100

// Handler serves the alert API at absolute paths, so mount it unstripped
// (mux.Handle("/alerts", h); mux.Handle("/alerts/", h)):
//
//	GET  /alerts                    JSON array of the active alerts
//	POST /alerts/{id}/ack           form field by (required): acknowledge
//	POST /alerts/{id}/false-alarm   form field by (required): false alarm
//
// The POSTs answer 200 with the published step as JSON, 400 without by,
// 404 for an unknown alert, 409 when a person already closed it and 503
// when the manager is stopped. They need ManagerConfig.APIToken as a
// bearer token (401 without it), or, with no token configured, a loopback
// client (403 otherwise).
func (m *Manager) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /alerts", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, m.Active())
	})
	mux.HandleFunc("POST /alerts/{id}/ack", func(w http.ResponseWriter, r *http.Request) {
		m.serveAck(w, r, false)
	})
	mux.HandleFunc("POST /alerts/{id}/false-alarm", func(w http.ResponseWriter, r *http.Request) {
		m.serveAck(w, r, true)
	})
	return mux
}

func (m *Manager) serveAck(w http.ResponseWriter, r *http.Request, falseAlarm bool) {
	if !m.authorized(w, r) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<12)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form: "+err.Error(), http.StatusBadRequest)
		return
	}
	by := r.FormValue("by")
	if by == "" || len(by) > maxBy {
		http.Error(w, "form field by (who acknowledges, at most 100 bytes) is required", http.StatusBadRequest)
		return
	}
	a, err := m.acknowledge(r.Context(), r.PathValue("id"), by, falseAlarm)
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, a)
	case errors.Is(err, ErrUnknownAlert):
		http.Error(w, "unknown alert", http.StatusNotFound)
	case errors.Is(err, ErrClosed):
		http.Error(w, "alert already acknowledged or marked a false alarm", http.StatusConflict)
	case errors.Is(err, ErrStopped):
		http.Error(w, "alert manager stopped", http.StatusServiceUnavailable)
	default:
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
	}
}

// authorized checks who may close an alert, answering 401 or 403 when
// not. An acknowledgement stops the SMS escalation, so an anonymous one
// could silence a real threat.
func (m *Manager) authorized(w http.ResponseWriter, r *http.Request) bool {
	switch apiauth.Check(r, m.cfg.APIToken) {
	case apiauth.NeedToken:
		apiauth.Challenge(w, "storesight alerts")
		http.Error(w, "a valid bearer token is required", http.StatusUnauthorized)
		return false
	case apiauth.NotLocal:
		http.Error(w, "without an API token, alerts can only be closed from this host", http.StatusForbidden)
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v) // the client went away; nothing to do
}
