package analytics

import (
	"fmt"
	"time"

	"github.com/storesight/storesight/pos"
)

// FactKind is what a fact counts.
type FactKind string

// Fact kinds. A refund is split by tender because cash refunds are where
// register fraud hides (the cash goes to the till, not back to a card).
const (
	FactSale          FactKind = "sale"
	FactVoid          FactKind = "void"
	FactCashRefund    FactKind = "cash_refund"
	FactRefund        FactKind = "refund" // non-cash
	FactPartialCancel FactKind = "partial_cancel"
	FactNoSale        FactKind = "no_sale"
	// FactNoCustomer is a checked transaction with nobody at the counter
	// (a pos_check event with verdict no_customer).
	FactNoCustomer FactKind = "no_customer"
	// FactEntries is people entering the store, from line counts.
	FactEntries FactKind = "entries"
)

// Fact is one countable thing, the unit the Store adds up. Facts come from
// at-least-once streams, so each carries a key that is the same every time
// the same thing is delivered.
type Fact struct {
	// Key is unique per fact, e.g. "pos/"+t.Key(), "check/"+eventID,
	// "count/"+eventID; a key already seen is not counted again.
	Key  string
	Kind FactKind
	// Time is the event time with the store's local offset: the local day,
	// week and month come from it. Entries come in UTC (camera event time);
	// they only feed hourly (UTC) counters.
	Time    time.Time
	Store   string
	Region  string
	Cashier string // "" for entries
	Amount  pos.Money
	// N is how many: 1, or the number of entries.
	N int64
}

// FactsOf turns a validated transaction into the fact it stands for (one
// per transaction; none for an unknown type).
func FactsOf(t pos.Transaction) []Fact {
	var k FactKind
	switch t.Type {
	case pos.TypeSale:
		k = FactSale
	case pos.TypeVoid:
		k = FactVoid
	case pos.TypeRefund:
		k = FactRefund
		if t.Tender == pos.TenderCash {
			k = FactCashRefund
		}
	case pos.TypePartialCancel:
		k = FactPartialCancel
	case pos.TypeNoSale:
		k = FactNoSale
	default:
		return nil
	}
	return []Fact{{
		Key: "pos/" + t.Key(), Kind: k, Time: t.Timestamp,
		Store: t.Store, Region: t.Region, Cashier: t.Cashier,
		Amount: t.Amount, N: 1,
	}}
}

// Limits keep bbolt keys (at most 32 KiB) and rows small; real ids are far
// shorter (POS ids are at most 128 bytes).
const (
	maxKey  = 1024
	maxName = 256
)

var factKinds = map[FactKind]bool{FactSale: true, FactVoid: true, FactCashRefund: true, FactRefund: true,
	FactPartialCancel: true, FactNoSale: true, FactNoCustomer: true, FactEntries: true}

// check says what makes a fact uncountable. Facts are built by this
// program from validated input, so a bad one is a bug upstream; the Store
// skips and logs it rather than failing the batch it came in, which a
// consumer would otherwise retry for ever.
func (f Fact) check() error {
	switch {
	case f.Key == "":
		return fmt.Errorf("no key")
	case !factKinds[f.Kind]:
		return fmt.Errorf("unknown kind %q", f.Kind)
	case f.Time.IsZero():
		return fmt.Errorf("no time")
	case f.Store == "":
		return fmt.Errorf("no store")
	case f.N < 0 || f.Amount < 0:
		return fmt.Errorf("negative count or amount")
	case len(f.Key) > maxKey || len(f.Store) > maxName || len(f.Region) > maxName || len(f.Cashier) > maxName:
		return fmt.Errorf("key or name too long")
	}
	return nil
}
