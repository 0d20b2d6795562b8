package analytics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/storesight/storesight/events"
)

// futureLimit is how far past the wall clock a fact may move the periods
// published: a POS with a wrong year must not make the service publish
// empty periods of 2099.
const futureLimit = 24 * time.Hour

// dirty is what changed since the last publish. Ingest goroutines write
// it, the publisher swaps it out; it stays small whatever the backlog: one
// hour span per store and one time.
type dirty struct {
	mu sync.Mutex
	// newest is the newest register fact's time, with its local offset
	// (entries are UTC and would shift the local date). Zero until a fact
	// is added in this process: after a restart nothing is re-published
	// until something new arrives, because the last run published it.
	newest time.Time
	// risk says a fact was added (or a risk publish failed) since the
	// last publish: without it the risk rows cannot have changed.
	risk  bool
	hours map[string]hourSpan // store -> hours touched
}

// hourSpan is a store's first and last touched hour (UTC starts).
type hourSpan struct{ first, last time.Time }

func (s hourSpan) merge(o hourSpan) hourSpan {
	if o.first.Before(s.first) {
		s.first = o.first
	}
	if o.last.After(s.last) {
		s.last = o.last
	}
	return s
}

func (d *dirty) touch(facts []Fact, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.hours == nil {
		d.hours = map[string]hourSpan{}
	}
	d.risk = true
	for _, f := range facts {
		if f.Kind != FactEntries && f.Time.After(d.newest) && !f.Time.After(now.Add(futureLimit)) {
			d.newest = f.Time
		}
		if f.Kind != FactSale && f.Kind != FactEntries {
			continue // only sales and entries are in the hourly counters
		}
		h := f.Time.UTC().Truncate(time.Hour)
		span, ok := d.hours[f.Store]
		if !ok {
			span = hourSpan{h, h}
		}
		d.hours[f.Store] = span.merge(hourSpan{h, h})
	}
}

// take returns and clears what changed. risk is false when no fact was
// added since the last take.
func (d *dirty) take() (newest time.Time, risk bool, hours map[string]hourSpan) {
	d.mu.Lock()
	defer d.mu.Unlock()
	hours, d.hours = d.hours, nil
	risk, d.risk = d.risk, false
	return d.newest, risk, hours
}

// retryRisk makes the next publish compute the risk rows again.
func (d *dirty) retryRisk() {
	d.mu.Lock()
	d.risk = true
	d.mu.Unlock()
}

// giveBack re-marks hours whose events could not be published, so the
// next publish tries them again.
func (d *dirty) giveBack(store string, span hourSpan) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.hours == nil {
		d.hours = map[string]hourSpan{}
	}
	if cur, ok := d.hours[store]; ok {
		span = span.merge(cur)
	}
	d.hours[store] = span
}

// riskLevels are published finest first.
var riskLevels = []Level{LevelCashier, LevelStore, LevelRegion, LevelHQ}

// PublishNow publishes what changed since the last publish: when any fact
// was added, the risk rows of every level for the day, week and month
// holding the newest register fact and the period before each (a fact in
// one store moves every peer's score, so all rows are recomputed), and the
// conversion of every hour touched since. An event identical to one this service already published
// (same content-addressed id) is not sent again. Publishes are serialised;
// ctx stops one between reports. Errors are joined; what failed is tried
// again next time.
func (s *Service) PublishNow(ctx context.Context) error {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	newest, risk, hours := s.dirty.take()
	var errs []error
	if risk && !newest.IsZero() {
		if re := s.publishRisk(ctx, newest); len(re) > 0 {
			s.dirty.retryRisk()
			errs = append(errs, re...)
		}
	}
	errs = append(errs, s.publishConversion(ctx, hours)...)
	s.publishes.Add(1)
	return errors.Join(errs...)
}

func (s *Service) publishRisk(ctx context.Context, newest time.Time) []error {
	var errs []error
	sent := make(map[string]bool, len(s.sentRisk))
	for _, k := range []PeriodKind{PeriodDay, PeriodWeek, PeriodMonth} {
		cur := PeriodOf(k, newest)
		for _, p := range []Period{cur.Prev(), cur} {
			for _, level := range riskLevels {
				if err := ctx.Err(); err != nil {
					return append(errs, fmt.Errorf("analytics: publish risk: %w", err))
				}
				rows, err := s.cfg.Store.Report(Query{Level: level, Period: p}, s.cfg.Risk)
				if err != nil {
					errs = append(errs, fmt.Errorf("analytics: publish risk %s %s: %w", level, p, err))
					continue
				}
				for _, row := range rows {
					e, err := RiskEvent(row)
					if err == nil && !s.sentRisk[e.ID] {
						err = s.publish(e)
					}
					if err != nil {
						errs = append(errs, err)
						continue
					}
					sent[e.ID] = true
				}
			}
		}
	}
	// Only this publish's ids are kept: the set stays the size of one
	// publish, and a row that changed back to an old figure is sent again.
	s.sentRisk = sent
	return errs
}

func (s *Service) publishConversion(ctx context.Context, hours map[string]hourSpan) []error {
	var errs []error
	sent := make(map[string]bool)
	for store, span := range hours {
		if err := ctx.Err(); err != nil {
			s.dirty.giveBack(store, span)
			errs = append(errs, fmt.Errorf("analytics: publish conversion: %w", err))
			continue
		}
		cs, err := s.cfg.Store.Conversion(store, span.first, span.last.Add(time.Hour))
		if err != nil {
			s.dirty.giveBack(store, span)
			errs = append(errs, fmt.Errorf("analytics: publish conversion of %s: %w", store, err))
			continue
		}
		failed := false
		for _, c := range cs {
			e, err := ConversionEvent(c)
			if err == nil && !s.sentConv[e.ID] {
				err = s.publish(e)
			}
			if err != nil {
				errs = append(errs, err)
				failed = true
				continue
			}
			sent[e.ID] = true
		}
		if failed {
			s.dirty.giveBack(store, span)
		}
	}
	s.sentConv = sent
	return errs
}

func (s *Service) publish(e events.Envelope) error {
	if err := s.cfg.Pub.Publish(e); err != nil {
		s.publishErrors.Add(1)
		return fmt.Errorf("analytics: publish %s %s: %w", e.Type, e.ID, err)
	}
	s.published.Add(1)
	return nil
}

// RiskEvent builds the risk event of one row. The envelope store is the
// row's store for cashier and store rows, "region:"+name for region rows
// and "hq" for the HQ row (so each entity's events are keyed, and ordered,
// together); there is no camera; the event time is the period's first day
// at 00:00 UTC. The id hashes level, store, entity, period and the data:
// unchanged figures keep their id, changed ones get a new one.
func RiskEvent(r Row) (events.Envelope, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return events.Envelope{}, fmt.Errorf("analytics: encode risk row %s %s: %w", r.Level, r.Entity, err)
	}
	st := events.Store{ID: r.Store, Region: r.Region}
	switch r.Level {
	case LevelRegion:
		st = events.Store{ID: "region:" + r.Entity, Region: r.Region}
	case LevelHQ:
		st = events.Store{ID: hqEntity}
	}
	start := r.Period.Start.Format(dateLayout)
	id := events.ID(events.TypeRisk, string(r.Level), r.Store, r.Entity, string(r.Period.Kind), start, contentHash(data))
	e, err := events.NewEnvelope(id, events.TypeRisk, st, "", r.Period.Start, json.RawMessage(data))
	if err != nil {
		return e, fmt.Errorf("analytics: risk event %s %s %s: %w", r.Level, r.Entity, r.Period, err)
	}
	return e, nil
}
