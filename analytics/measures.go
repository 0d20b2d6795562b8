package analytics

import (
	"github.com/storesight/storesight/pos"
)

// Measures are the counters of one entity over one period. Amounts are
// summed as they were rung: voids, refunds and cancels are counted apart,
// never netted against sales, so each exception stays visible.
type Measures struct {
	Transactions        int64     `json:"transactions"` // sales
	SalesAmount         pos.Money `json:"sales_amount"`
	Voids               int64     `json:"voids"`
	VoidAmount          pos.Money `json:"void_amount"`
	CashRefunds         int64     `json:"cash_refunds"`
	CashRefundAmount    pos.Money `json:"cash_refund_amount"`
	Refunds             int64     `json:"refunds"` // non-cash
	RefundAmount        pos.Money `json:"refund_amount"`
	PartialCancels      int64     `json:"partial_cancels"`
	PartialCancelAmount pos.Money `json:"partial_cancel_amount"`
	NoSales             int64     `json:"no_sales"`
	NoCustomer          int64     `json:"no_customer"`
	NoCustomerAmount    pos.Money `json:"no_customer_amount"`
}

// addFact counts one fact. Entries are not a register measure (they are
// per store and hour, see Hour).
func (m *Measures) addFact(f Fact) {
	switch f.Kind {
	case FactSale:
		m.Transactions += f.N
		m.SalesAmount += f.Amount
	case FactVoid:
		m.Voids += f.N
		m.VoidAmount += f.Amount
	case FactCashRefund:
		m.CashRefunds += f.N
		m.CashRefundAmount += f.Amount
	case FactRefund:
		m.Refunds += f.N
		m.RefundAmount += f.Amount
	case FactPartialCancel:
		m.PartialCancels += f.N
		m.PartialCancelAmount += f.Amount
	case FactNoSale:
		m.NoSales += f.N
	case FactNoCustomer:
		m.NoCustomer += f.N
		m.NoCustomerAmount += f.Amount
	}
}

// add sums o into m (roll-ups and days into periods).
func (m *Measures) add(o Measures) {
	a, b := m.fields(), o.fields()
	for i := range a {
		*a[i] += *b[i]
	}
}

// fields lists every counter in a fixed order: the storage encoding and
// add depend on it, so a new counter goes at the end.
func (m *Measures) fields() []*int64 {
	return []*int64{&m.Transactions, (*int64)(&m.SalesAmount), &m.Voids, (*int64)(&m.VoidAmount),
		&m.CashRefunds, (*int64)(&m.CashRefundAmount), &m.Refunds, (*int64)(&m.RefundAmount),
		&m.PartialCancels, (*int64)(&m.PartialCancelAmount), &m.NoSales, &m.NoCustomer, (*int64)(&m.NoCustomerAmount)}
}

// Rate names: the exceptions that are compared per 1,000 transactions. They
// are the JSON keys of Rates, Change, Risk.Z and RiskConfig.Weights.
const (
	RateVoids          = "voids"
	RateCashRefunds    = "cash_refunds"
	RateRefunds        = "refunds"
	RatePartialCancels = "partial_cancels"
	RateNoSales        = "no_sales"
	RateNoCustomer     = "no_customer"
)

// RateNames lists the rates in their fixed order.
var RateNames = []string{RateVoids, RateCashRefunds, RateRefunds, RatePartialCancels, RateNoSales, RateNoCustomer}

// counts returns the exception counts in RateNames order.
func (m Measures) counts() [6]int64 {
	return [6]int64{m.Voids, m.CashRefunds, m.Refunds, m.PartialCancels, m.NoSales, m.NoCustomer}
}

// Rates are exceptions per 1,000 transactions (sales). Rates per
// transaction, not per day, make a busy store comparable to a quiet one.
type Rates struct {
	Voids          float64 `json:"voids"`
	CashRefunds    float64 `json:"cash_refunds"`
	Refunds        float64 `json:"refunds"`
	PartialCancels float64 `json:"partial_cancels"`
	NoSales        float64 `json:"no_sales"`
	NoCustomer     float64 `json:"no_customer"`
}

func (r Rates) values() [6]float64 {
	return [6]float64{r.Voids, r.CashRefunds, r.Refunds, r.PartialCancels, r.NoSales, r.NoCustomer}
}

func ratesOf(v [6]float64) Rates {
	return Rates{Voids: v[0], CashRefunds: v[1], Refunds: v[2], PartialCancels: v[3], NoSales: v[4], NoCustomer: v[5]}
}

// RatesOf returns m's rates, or nil when there were no transactions to
// divide by (a rate of zero would claim there were none of the exceptions).
func RatesOf(m Measures) *Rates {
	if m.Transactions <= 0 {
		return nil
	}
	var v [6]float64
	for i, c := range m.counts() {
		v[i] = float64(c) * 1000 / float64(m.Transactions)
	}
	r := ratesOf(v)
	return &r
}

// Averages are amounts per exception, rounded half up to the thousandth;
// each is absent when its count is zero.
type Averages struct {
	Void          *pos.Money `json:"void,omitempty"`
	CashRefund    *pos.Money `json:"cash_refund,omitempty"`
	PartialCancel *pos.Money `json:"partial_cancel,omitempty"`
	// NoCustomer is per checked transaction without a customer (mostly
	// cash refunds).
	NoCustomer *pos.Money `json:"no_customer,omitempty"`
}

// AveragesOf returns m's averages.
func AveragesOf(m Measures) Averages {
	return Averages{
		Void:          average(m.VoidAmount, m.Voids),
		CashRefund:    average(m.CashRefundAmount, m.CashRefunds),
		PartialCancel: average(m.PartialCancelAmount, m.PartialCancels),
		NoCustomer:    average(m.NoCustomerAmount, m.NoCustomer),
	}
}

func average(sum pos.Money, n int64) *pos.Money {
	if n <= 0 {
		return nil
	}
	a := (sum + pos.Money(n/2)) / pos.Money(n) // amounts are >= 0: half up
	return &a
}

// RateChange is one rate against the previous period: Abs in points per
// 1,000 transactions, Pct relative to the previous rate (null when the
// previous rate is zero: no percentage of nothing).
type RateChange struct {
	Abs float64  `json:"abs"`
	Pct *float64 `json:"pct"`
}

// Change is every rate against the previous period.
type Change struct {
	Voids          RateChange `json:"voids"`
	CashRefunds    RateChange `json:"cash_refunds"`
	Refunds        RateChange `json:"refunds"`
	PartialCancels RateChange `json:"partial_cancels"`
	NoSales        RateChange `json:"no_sales"`
	NoCustomer     RateChange `json:"no_customer"`
}

// ChangeOf compares two periods' rates; nil when either has none.
func ChangeOf(cur, prev *Rates) *Change {
	if cur == nil || prev == nil {
		return nil
	}
	c, p := cur.values(), prev.values()
	var ch [6]RateChange
	for i := range c {
		ch[i].Abs = c[i] - p[i]
		if p[i] != 0 {
			pct := (c[i] - p[i]) / p[i] * 100
			ch[i].Pct = &pct
		}
	}
	return &Change{Voids: ch[0], CashRefunds: ch[1], Refunds: ch[2], PartialCancels: ch[3], NoSales: ch[4], NoCustomer: ch[5]}
}
