package pos

import (
	_ "embed"
	"time"

	"github.com/storesight/storesight/alerts"
	"github.com/storesight/storesight/events"
)

// Type is what a register transaction did. The amount of a transaction is
// never negative; the direction of the money is in the type.
type Type string

// Transaction types.
const (
	TypeSale          Type = "sale"           // goods sold
	TypeVoid          Type = "void"           // a whole transaction cancelled before or right after payment
	TypeRefund        Type = "refund"         // money given back for returned goods
	TypePartialCancel Type = "partial_cancel" // some lines of a transaction cancelled
	TypeNoSale        Type = "no_sale"        // the cash drawer opened without a sale
)

// Types lists every Type, in the order error messages name them.
var Types = []Type{TypeSale, TypeVoid, TypeRefund, TypePartialCancel, TypeNoSale}

// Tender is how money was paid or paid back.
type Tender string

// Tenders.
const (
	TenderCash    Tender = "cash"
	TenderCard    Tender = "card"
	TenderMobile  Tender = "mobile"
	TenderVoucher Tender = "voucher"
	TenderOther   Tender = "other"
)

// Tenders lists every Tender, in the order error messages name them.
var Tenders = []Tender{TenderCash, TenderCard, TenderMobile, TenderVoucher, TenderOther}

// LineItem is one line of a transaction. Quantity is a float because
// goods sold by weight have fractional quantities; money is always Money.
type LineItem struct {
	SKU         string  `json:"sku"`
	Description string  `json:"description,omitempty"`
	Quantity    float64 `json:"quantity"`
	UnitPrice   Money   `json:"unit_price"`
	Amount      Money   `json:"amount"`
}

// Transaction is one register transaction as the POS system sends it on
// the storesight.pos topic (its own JSON, not an events envelope). See
// transaction.schema.json (Schema) for the wire format.
type Transaction struct {
	Store    string `json:"store"`
	Region   string `json:"region,omitempty"`
	Register string `json:"register"`
	Cashier  string `json:"cashier"`
	ID       string `json:"transaction_id"`
	Type     Type   `json:"type"`
	// Amount is never negative; the sign is in Type.
	Amount Money `json:"amount"`
	// Currency is an ISO 4217 code: 3 upper-case letters.
	Currency string `json:"currency"`
	// Tender is required for sales and refunds.
	Tender Tender `json:"tender,omitempty"`
	// Timestamp is the POS clock's time with the POS's UTC offset, kept as
	// sent (not converted to UTC): the store's local day comes from it.
	Timestamp time.Time `json:"timestamp"`
	// Items is required (at least one) for partial cancels: they say what
	// was cancelled.
	Items []LineItem `json:"items,omitempty"`
	// OriginalID is, for voids and refunds, the transaction voided or
	// refunded, when the POS knows it.
	OriginalID string `json:"original_transaction_id,omitempty"`
}

// Key is the de-duplication key of the transaction: the same transaction
// re-sent (at-least-once delivery, a POS retry) has the same key. It
// hashes store, id and type with events.ID, so ids containing any
// separator cannot collide.
func (t Transaction) Key() string {
	return events.ID("pos_transaction", t.Store, t.ID, string(t.Type))
}

// KafkaKey is the message key on the storesight.pos topic: one register's
// transactions share a partition and keep their order.
func (t Transaction) KafkaKey() string { return t.Store + "/" + t.Register }

// Ref is the reference an alert about this transaction carries.
func (t Transaction) Ref() alerts.POSRef {
	return alerts.POSRef{
		TransactionID: t.ID,
		Register:      t.Register,
		Cashier:       t.Cashier,
		Type:          string(t.Type),
		Tender:        string(t.Tender),
		Amount:        t.Amount.String(),
		Currency:      t.Currency,
		POSTime:       t.Timestamp,
	}
}

//go:embed transaction.schema.json
var schema []byte

// Schema returns the JSON Schema (draft 2020-12) of a raw transaction
// message, for POS integrators. Parse is the authority; the schema
// expresses all of its rules that JSON Schema can.
func Schema() []byte { return append([]byte(nil), schema...) }
