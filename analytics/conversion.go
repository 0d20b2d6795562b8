package analytics

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/storesight/storesight/events"
	"github.com/storesight/storesight/pos"
)

// Conversion is one store's footfall against its sales in one UTC hour:
// the data of a conversion event. Hours are UTC because entries come from
// cameras on UTC event time and sales are placed by their instant, so both
// sides of the ratio land in the same hour whatever the store's offset.
type Conversion struct {
	Store  string `json:"store"`
	Region string `json:"region,omitempty"`
	// Hour is the start of the hour, UTC.
	Hour time.Time `json:"hour"`
	// Entries is people entering, summed over the store's entrance lines.
	Entries int64 `json:"entries"`
	// Transactions counts sales only: a void or a refund is not a visitor
	// buying something.
	Transactions int64     `json:"transactions"`
	SalesAmount  pos.Money `json:"sales_amount"`
	// Rate is Transactions / Entries, nil (absent in JSON) when there were
	// no entries: the ratio is undefined then, and 0 or infinity would be
	// read as a figure. It can exceed 1 (a visitor paying twice, an
	// entrance without a counting line).
	Rate *float64 `json:"rate,omitempty"`
}

// Conversion returns store's hours with any data (entries or sales) that
// overlap [from, to), oldest first. An hour with sales but no counting
// camera has Entries 0 and no Rate.
func (s *Store) Conversion(store string, from, to time.Time) ([]Conversion, error) {
	if store == "" {
		return nil, errors.New("analytics: conversion: no store")
	}
	hours, err := s.Hours(store, from, to)
	if err != nil {
		return nil, err
	}
	if len(hours) == 0 {
		return nil, nil
	}
	stores, err := s.Stores()
	if err != nil {
		return nil, err
	}
	out := make([]Conversion, len(hours))
	for i, h := range hours {
		out[i] = conversionOf(h, stores[store])
	}
	return out, nil
}

func conversionOf(h Hour, region string) Conversion {
	c := Conversion{Store: h.Store, Region: region, Hour: h.Start.UTC(), Entries: h.Entries,
		Transactions: h.Transactions, SalesAmount: h.SalesAmount}
	if h.Entries > 0 {
		r := float64(h.Transactions) / float64(h.Entries)
		c.Rate = &r
	}
	return c
}

// ConversionEvent builds the conversion event of c: no camera, event time
// the hour's start. The id hashes the store, the hour and the data, so the
// same figures always get the same id (a re-send is a duplicate) and a
// corrected hour (late sales or counts) gets a new one.
func ConversionEvent(c Conversion) (events.Envelope, error) {
	data, err := json.Marshal(c)
	if err != nil {
		return events.Envelope{}, fmt.Errorf("analytics: encode conversion of %s %s: %w", c.Store, c.Hour, err)
	}
	hour := c.Hour.UTC().Format(time.RFC3339)
	id := events.ID(events.TypeConversion, c.Store, hour, contentHash(data))
	e, err := events.NewEnvelope(id, events.TypeConversion, events.Store{ID: c.Store, Region: c.Region}, "", c.Hour, json.RawMessage(data))
	if err != nil {
		return e, fmt.Errorf("analytics: conversion event of %s %s: %w", c.Store, hour, err)
	}
	return e, nil
}

func contentHash(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
