package analytics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/storesight/storesight/events"
	"github.com/storesight/storesight/pos"
)

// A generated fleet history for the risk tests: 3 regions, 12 stores of
// very different sizes, 8 cashiers each, 8 weeks, from a fixed seed.
//
// Base rates per 1,000 sales are of the order retail loss-prevention
// reports give (voids ~1%, cash refunds a few per mille, no-sales under
// 1%); each store and each cashier has its own multiplier, so honest
// people differ. A checked transaction (void, cash refund, no-sale) gets a
// false "no customer" verdict 1.5% of the time (someone out of view).
//
// Planted:
//   - the dishonest cashier (dishonestStore/dishonestCashier), at a
//     mid-size store, rings one fake cash refund a day, Monday to Saturday,
//     in dishonestFrom and later weeks: about 1% of his ~500 weekly sales,
//     a pattern a till audit would miss. The video finds nobody at the
//     counter for 85% of them (the rest, someone happened to stand there);
//   - the noisy honest cashier (noisyStore/noisyCashier), part-time at the
//     smallest store (~115 sales a week), has in noisyWeek the bad-luck
//     week a tiny register has now and then: 3 cash refunds, 3 voids, 2
//     no-sales and one false no-customer verdict. It is forced rather than
//     left to the seed so every run contains it.
const (
	histWeeks        = 8
	dishonestStore   = "s05"
	dishonestCashier = "c3"
	dishonestFrom    = 5 // weeks 5, 6, 7 (0-based)
	noisyStore       = "s12"
	noisyCashier     = "c8"
	noisyWeek        = 6
)

// histStart is the Monday of the first week (ISO week 2026-W39).
var histStart = time.Date(2026, 9, 21, 0, 0, 0, 0, time.UTC)

var baseRates = [6]float64{12, 4, 3, 6, 8} // voids, cash refunds, refunds, partial cancels, no-sales per 1,000

const falseNoCustomer = 0.015

type simStore struct {
	id, region string
	zone       *time.Location
	weekly     float64 // mean sales per full-time cashier per week
	mul        float64 // store's exception multiplier
}

type simCashier struct {
	store *simStore
	id    string
	share float64    // of a full-time week
	mul   [5]float64 // own multiplier per base rate
}

// truth counts what the generator produced, per (week, store, cashier).
type truth map[[3]string]*Measures

func (t truth) at(week int, store, cashier string) *Measures {
	k := [3]string{fmt.Sprint(week), store, cashier}
	if t[k] == nil {
		t[k] = &Measures{}
	}
	return t[k]
}

type history struct {
	days   [][]Fact // one batch per day, in order
	truth  truth
	stores []*simStore
}

func generateHistory(seed uint64) history {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	regions := []struct {
		name string
		zone *time.Location
	}{
		{"north", time.FixedZone("+01:00", 3600)},
		{"south", time.FixedZone("+02:00", 7200)},
		{"west", time.FixedZone("-05:00", -5*3600)},
	}
	// Store sizes from a hypermarket to a kiosk: sales per full-time
	// cashier per week.
	sizes := []float64{900, 750, 420, 300, 820, 600, 380, 260, 700, 450, 240, 160}
	h := history{truth: truth{}}
	var cashiers []*simCashier
	for i, size := range sizes {
		r := regions[i/4]
		st := &simStore{id: fmt.Sprintf("s%02d", i+1), region: r.name, zone: r.zone, weekly: size, mul: 0.7 + 0.6*rng.Float64()}
		h.stores = append(h.stores, st)
		for c := 1; c <= 8; c++ {
			sc := &simCashier{store: st, id: fmt.Sprintf("c%d", c), share: 0.55 + 0.5*rng.Float64()}
			for k := range sc.mul {
				sc.mul[k] = 0.75 + 0.5*rng.Float64()
			}
			if st.id == noisyStore && sc.id == noisyCashier {
				sc.share = 115.0 / st.weekly
			}
			cashiers = append(cashiers, sc)
		}
	}
	for d := 0; d < histWeeks*7; d++ {
		week := d / 7
		var batch []Fact
		for _, c := range cashiers {
			batch = append(batch, c.day(rng, d, week, h.truth)...)
		}
		h.days = append(h.days, batch)
	}
	return h
}

// day generates one cashier's facts for one day.
func (c *simCashier) day(rng *rand.Rand, d, week int, tr truth) []Fact {
	st := c.store
	date := histStart.AddDate(0, 0, d)
	m := tr.at(week, st.id, c.id)
	var out []Fact
	seq := 0
	emit := func(k FactKind, amount pos.Money) {
		seq++
		// Open 08:00-21:00 local: in the -05:00 region the evening's
		// facts fall on the next UTC day but stay on their local day.
		at := time.Date(date.Year(), date.Month(), date.Day(), 8, 0, 0, 0, st.zone).Add(time.Duration(rng.IntN(13*3600)) * time.Second)
		f := Fact{Kind: k, Time: at, Store: st.id, Region: st.region, Cashier: c.id, Amount: amount, N: 1}
		switch k {
		case FactNoCustomer:
			f.Key = "check/" + events.ID("pos_check", st.id, c.id, fmt.Sprint(d, "/", seq))
		default:
			t := pos.Transaction{Store: st.id, Region: st.region, Cashier: c.id, ID: fmt.Sprintf("%s-%d-%d", c.id, d, seq),
				Type: txType(k), Amount: amount, Tender: pos.TenderCard, Timestamp: at}
			if k == FactCashRefund {
				t.Tender = pos.TenderCash
			}
			fs := FactsOf(t)
			f = fs[0]
		}
		m.addFact(f)
		out = append(out, f)
	}
	money := func(lo, hi float64) pos.Money { return pos.Money(math.Round((lo+(hi-lo)*rng.Float64())*100)) * 10 }

	sales := poisson(rng, st.weekly*c.share/7)
	counts := [5]int{}
	for k := range counts {
		counts[k] = poisson(rng, baseRates[k]*st.mul*c.mul[k]*float64(sales)/1000)
	}
	fakes := 0
	if st.id == dishonestStore && c.id == dishonestCashier && week >= dishonestFrom {
		fakes = 1
		if d%7 == 6 {
			fakes = 0 // Sunday off
		}
	}
	if st.id == noisyStore && c.id == noisyCashier && week == noisyWeek {
		// The forced bad-luck week, spread over Monday..Sunday.
		sales = []int{17, 16, 16, 16, 16, 16, 15}[d%7]
		counts = [5]int{}
		switch d % 7 {
		case 1:
			counts = [5]int{1, 1, 0, 0, 1}
		case 3:
			counts = [5]int{1, 1, 0, 0, 0}
		case 5:
			counts = [5]int{1, 1, 0, 0, 1}
		}
	}
	for range sales {
		emit(FactSale, money(3, 120))
	}
	kinds := [5]FactKind{FactVoid, FactCashRefund, FactRefund, FactPartialCancel, FactNoSale}
	for k, n := range counts {
		for range n {
			amount := pos.Money(0)
			if kinds[k] != FactNoSale {
				amount = money(2, 80)
			}
			emit(kinds[k], amount)
			checked := kinds[k] == FactVoid || kinds[k] == FactCashRefund || kinds[k] == FactNoSale
			forcedNoisy := st.id == noisyStore && c.id == noisyCashier && week == noisyWeek && d%7 == 3 && kinds[k] == FactCashRefund
			if forcedNoisy || (checked && !(st.id == noisyStore && c.id == noisyCashier && week == noisyWeek) && rng.Float64() < falseNoCustomer) {
				emit(FactNoCustomer, amount)
			}
		}
	}
	for range fakes {
		amount := money(20, 60)
		emit(FactCashRefund, amount)
		if rng.Float64() < 0.85 {
			emit(FactNoCustomer, amount)
		}
	}
	return out
}

func txType(k FactKind) pos.Type {
	switch k {
	case FactSale:
		return pos.TypeSale
	case FactVoid:
		return pos.TypeVoid
	case FactCashRefund, FactRefund:
		return pos.TypeRefund
	case FactPartialCancel:
		return pos.TypePartialCancel
	}
	return pos.TypeNoSale
}

// poisson draws from a Poisson distribution: Knuth's method for small
// means, a rounded normal for large ones (error far below what matters).
func poisson(rng *rand.Rand, mean float64) int {
	if mean <= 0 {
		return 0
	}
	if mean > 50 {
		return max(0, int(math.Round(mean+math.Sqrt(mean)*rng.NormFloat64())))
	}
	l, k, p := math.Exp(-mean), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}
