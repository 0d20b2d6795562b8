package pos

import (
	"testing"
	"time"

	"github.com/storesight/storesight/alerts"
)

func TestKey(t *testing.T) {
	a := Transaction{Store: "s/1", ID: "t", Type: TypeSale}
	b := Transaction{Store: "s", ID: "1/t", Type: TypeSale}
	if a.Key() == b.Key() {
		t.Error(`("s/1","t") and ("s","1/t") share a key`)
	}
	same := a
	same.Amount, same.Cashier, same.Register = 5, "other", "r9"
	if same.Key() != a.Key() {
		t.Error("key depends on more than store, id and type")
	}
	void := a
	void.Type = TypeVoid
	if void.Key() == a.Key() {
		t.Error("a sale and its void share a key")
	}
	other := a
	other.Store = "s/2"
	if other.Key() == a.Key() {
		t.Error("two stores' transactions share a key")
	}
}

func TestKafkaKeyAndRef(t *testing.T) {
	tx, err := Parse(msg(t, map[string]any{"type": "refund", "amount": "49.90"}))
	if err != nil {
		t.Fatal(err)
	}
	if k := tx.KafkaKey(); k != "s1/r1" {
		t.Errorf("KafkaKey %q", k)
	}
	want := alerts.POSRef{TransactionID: "t-100", Register: "r1", Cashier: "c7", Type: "refund", Tender: "cash",
		Amount: "49.9", Currency: "EUR", POSTime: time.Date(2026, 11, 16, 14, 3, 27, 0, time.FixedZone("", 3600))}
	got := tx.Ref()
	if !got.POSTime.Equal(want.POSTime) || got.POSTime.Format(time.RFC3339) != "2026-11-16T14:03:27+01:00" {
		t.Errorf("POSTime %v", got.POSTime)
	}
	got.POSTime, want.POSTime = time.Time{}, time.Time{}
	if got != want {
		t.Errorf("Ref\n got  %+v\n want %+v", got, want)
	}
}
