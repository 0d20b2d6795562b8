package analytics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/storesight/storesight/events"
	"github.com/storesight/storesight/pos"
)

// Service defaults.
const (
	DefaultGroupID      = "storesight-analytics"
	DefaultChecksTopic  = "storesight.pos.checks"
	DefaultCountsTopic  = "storesight.counts"
	DefaultPublishEvery = time.Hour
	// finalPublishTimeout bounds the publish at shutdown, which runs after
	// the caller's context is already done.
	finalPublishTimeout = 30 * time.Second
)

// ServiceConfig configures a Service.
type ServiceConfig struct {
	Brokers []string
	// GroupID is the consumer group of all three inputs (default
	// DefaultGroupID): a restart with the same group resumes after what was
	// committed, which is only what the Store already holds.
	GroupID string
	// POSTopic (default pos.DefaultTopic), ChecksTopic (default
	// DefaultChecksTopic) and CountsTopic (default DefaultCountsTopic).
	POSTopic, ChecksTopic, CountsTopic string
	// DeadLetters receives the POS messages that are not valid
	// transactions (required).
	DeadLetters *pos.DeadLetters
	Store       *Store // required
	Risk        RiskConfig
	// Pub receives the risk and conversion events (required).
	Pub interface{ Publish(events.Envelope) error }
	// PublishEvery is the wall-time interval of PublishNow (default
	// DefaultPublishEvery); the service also publishes once when it stops.
	PublishEvery time.Duration
	// Regions gives the region of stores (store id -> region) whose POS
	// messages and events carry none.
	Regions map[string]string
	Log     *slog.Logger
}

// ServiceStats counts what a Service did.
type ServiceStats struct {
	// FactsAdded were counted in the Store. NotCounted were handed to it
	// but not counted: duplicates (redeliveries) above all, or facts older
	// than its dedup window or invalid (Store.Stats has the split).
	FactsAdded int64 `json:"facts_added"`
	NotCounted int64 `json:"not_counted"`
	// Skipped events hold no fact (another type, another verdict, a line
	// that is not an entrance); Malformed ones could not be read. Both are
	// committed.
	Skipped   int64 `json:"skipped"`
	Malformed int64 `json:"malformed"`
	// Published events were accepted by Pub; PublishErrors were refused
	// (retried at the next publish).
	Published     int64 `json:"published"`
	PublishErrors int64 `json:"publish_errors"`
	Publishes     int64 `json:"publishes"`
	// AddErrors, FetchErrors and CommitErrors are retried failures.
	AddErrors    int64             `json:"add_errors"`
	FetchErrors  int64             `json:"fetch_errors"`
	CommitErrors int64             `json:"commit_errors"`
	POS          pos.ConsumerStats `json:"pos"`
	Store        StoreStats        `json:"store"`
}

// Service keeps the analytics Store up to date from Kafka and publishes
// what it computes: raw POS transactions (through pos.Consumer, so invalid
// ones go to the dead-letter topic), pos_check events with verdict
// no_customer and line_count events of entrance lines become facts; risk
// rows and hourly conversion go out as events. Every input is committed
// only after its facts are in the Store, and every fact has a key the
// Store remembers, so redelivery, a crash or a restart never counts
// anything twice.
type Service struct {
	cfg      ServiceConfig
	log      *slog.Logger
	consumer *pos.Consumer
	running  atomic.Bool
	// progress follows each input topic, for WaitCaughtUp.
	progress map[string]*events.Progress

	dirty dirty

	pubMu    sync.Mutex // serialises PublishNow; guards the sent sets
	sentRisk map[string]bool
	sentConv map[string]bool

	added, duplicates, skipped, malformed atomic.Int64
	published, publishErrors, publishes   atomic.Int64
	addErrors, fetchErrors, commitErrors  atomic.Int64
}

// NewService checks cfg, applies defaults and returns a service; Run
// starts it.
func NewService(cfg ServiceConfig) (*Service, error) {
	switch {
	case len(cfg.Brokers) == 0:
		return nil, errors.New("analytics: service: no brokers")
	case cfg.Store == nil:
		return nil, errors.New("analytics: service: no store")
	case cfg.Pub == nil:
		return nil, errors.New("analytics: service: no publisher for risk and conversion events")
	case cfg.DeadLetters == nil:
		return nil, errors.New("analytics: service: dead letters are required (invalid POS messages must go somewhere)")
	case cfg.PublishEvery < 0:
		return nil, fmt.Errorf("analytics: service: publish interval %v is negative", cfg.PublishEvery)
	}
	if _, _, err := cfg.Risk.withDefaults(); err != nil {
		return nil, fmt.Errorf("analytics: service: %w", err)
	}
	if cfg.GroupID == "" {
		cfg.GroupID = DefaultGroupID
	}
	if cfg.POSTopic == "" {
		cfg.POSTopic = pos.DefaultTopic
	}
	if cfg.ChecksTopic == "" {
		cfg.ChecksTopic = DefaultChecksTopic
	}
	if cfg.CountsTopic == "" {
		cfg.CountsTopic = DefaultCountsTopic
	}
	if cfg.PublishEvery == 0 {
		cfg.PublishEvery = DefaultPublishEvery
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	s := &Service{cfg: cfg, log: cfg.Log.With("component", "analytics.service", "group", cfg.GroupID),
		progress: map[string]*events.Progress{}}
	for _, t := range []string{cfg.POSTopic, cfg.ChecksTopic, cfg.CountsTopic} {
		s.progress[t] = &events.Progress{Brokers: cfg.Brokers, Topic: t}
	}
	c, err := pos.NewConsumer(pos.ConsumerConfig{Brokers: cfg.Brokers, Topic: cfg.POSTopic, GroupID: cfg.GroupID,
		DeadLetters: cfg.DeadLetters, Progress: s.progress[cfg.POSTopic], Log: cfg.Log}, s.handlePOS)
	if err != nil {
		return nil, fmt.Errorf("analytics: service: %w", err)
	}
	s.consumer = c
	return s, nil
}

// Run consumes the three inputs and publishes every PublishEvery until
// ctx is done; then, after its goroutines have stopped, it publishes once
// more (so what was counted last goes out) and returns. It returns nil on
// cancellation, or the error of a goroutine that failed (which stops the
// others). It may be called once at a time.
func (s *Service) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("analytics: service: already running")
	}
	defer s.running.Store(false)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg      sync.WaitGroup
		errMu   sync.Mutex
		runErrs []error
	)
	start := func(name string, f func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(ctx); err != nil {
				errMu.Lock()
				runErrs = append(runErrs, fmt.Errorf("analytics: %s: %w", name, err))
				errMu.Unlock()
				cancel()
			}
		}()
	}
	start("pos consumer", s.consumer.Run)
	start("checks", func(ctx context.Context) error { return s.consumeEnvelopes(ctx, s.cfg.ChecksTopic, checkFact) })
	start("counts", func(ctx context.Context) error { return s.consumeEnvelopes(ctx, s.cfg.CountsTopic, countFact) })
	start("publisher", s.publishLoop)
	wg.Wait()

	pctx, pcancel := context.WithTimeout(context.WithoutCancel(ctx), finalPublishTimeout)
	defer pcancel()
	if err := s.PublishNow(pctx); err != nil {
		s.log.Error("analytics: final publish", "err", err)
	}
	return errors.Join(runErrs...)
}

// publishLoop publishes every PublishEvery of wall time until ctx is done.
func (s *Service) publishLoop(ctx context.Context) error {
	t := time.NewTicker(s.cfg.PublishEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := s.PublishNow(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("analytics: publish", "err", err)
			}
		}
	}
}

// Stats returns the counts so far.
func (s *Service) Stats() ServiceStats {
	return ServiceStats{
		FactsAdded:    s.added.Load(),
		NotCounted:    s.duplicates.Load(),
		Skipped:       s.skipped.Load(),
		Malformed:     s.malformed.Load(),
		Published:     s.published.Load(),
		PublishErrors: s.publishErrors.Load(),
		Publishes:     s.publishes.Load(),
		AddErrors:     s.addErrors.Load(),
		FetchErrors:   s.fetchErrors.Load(),
		CommitErrors:  s.commitErrors.Load(),
		POS:           s.consumer.Stats(),
		Store:         s.cfg.Store.Stats(),
	}
}

// maxConversionSpan bounds one conversion request (about a quarter of
// hourly rows per store).
const maxConversionSpan = 93 * 24 * time.Hour

// conversionResponse is the body of GET /analytics/conversion.
type conversionResponse struct {
	Store string       `json:"store"`
	From  time.Time    `json:"from"`
	To    time.Time    `json:"to"`
	Hours []Conversion `json:"hours"`
}

// Handler serves, at absolute paths (mount it unstripped at /analytics/):
//
//	GET /analytics/conversion?store=s1[&from=..][&to=..]
//	    {"store","from","to","hours":[Conversion, ...]}: the store's hours
//	    with data in [from, to); from and to are RFC 3339 times or
//	    YYYY-MM-DD dates (00:00 UTC); to defaults to the end of the current
//	    hour, from to 24 hours before to; at most 93 days
//
// and everything of Store.Handler (risk, stores). Bad parameters answer
// 400. Like Store.Handler it does no authentication.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/analytics/", s.cfg.Store.Handler(s.cfg.Risk))
	mux.HandleFunc("GET /analytics/conversion", s.serveConversion)
	return mux
}

func (s *Service) serveConversion(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for k, v := range q {
		if k != "store" && k != "from" && k != "to" {
			http.Error(w, fmt.Sprintf("unknown parameter %q (want store, from, to)", k), http.StatusBadRequest)
			return
		}
		if len(v) > 1 {
			http.Error(w, fmt.Sprintf("parameter %q given %d times", k, len(v)), http.StatusBadRequest)
			return
		}
	}
	store := q.Get("store")
	if store == "" {
		http.Error(w, "missing parameter store", http.StatusBadRequest)
		return
	}
	to := time.Now().UTC().Truncate(time.Hour).Add(time.Hour)
	if v := q.Get("to"); v != "" {
		t, err := parseInstant(v)
		if err != nil {
			http.Error(w, "to: "+err.Error(), http.StatusBadRequest)
			return
		}
		to = t
	}
	from := to.Add(-24 * time.Hour)
	if v := q.Get("from"); v != "" {
		t, err := parseInstant(v)
		if err != nil {
			http.Error(w, "from: "+err.Error(), http.StatusBadRequest)
			return
		}
		from = t
	}
	switch {
	case !from.Before(to):
		http.Error(w, "from must be before to", http.StatusBadRequest)
		return
	case to.Sub(from) > maxConversionSpan:
		http.Error(w, "from..to spans more than 93 days", http.StatusBadRequest)
		return
	}
	hours, err := s.cfg.Store.Conversion(store, from, to)
	if err != nil {
		s.log.Error("analytics: conversion", "query", r.URL.RawQuery, "err", err)
		http.Error(w, "conversion failed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	if hours == nil {
		hours = []Conversion{}
	}
	writeJSON(w, s.log, conversionResponse{Store: store, From: from.UTC(), To: to.UTC(), Hours: hours})
}

// parseInstant reads an RFC 3339 time or a YYYY-MM-DD date (00:00 UTC).
func parseInstant(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(dateLayout, v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time nor YYYY-MM-DD", strings.TrimSpace(v))
}

// WaitCaughtUp waits until every message now in the three input topics has
// been counted (or deliberately skipped), or until ctx ends: a run over
// recorded video uses it to publish figures that include the whole video.
func (s *Service) WaitCaughtUp(ctx context.Context) error {
	for _, p := range s.progress {
		if err := p.WaitCaughtUp(ctx); err != nil {
			return err
		}
	}
	return nil
}
