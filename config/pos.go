package config

import "time"

// POS configures the point-of-sale side of a store: register transactions
// read from Kafka (and posted over HTTP), and the check of cash refunds,
// voids and drawer openings against the video of each register's customer
// zone.
type POS struct {
	// Enabled turns POS ingest and the register checks on.
	Enabled bool `yaml:"enabled"`
	// Topic is the Kafka topic the POS systems write transactions to (the
	// POS's own JSON, see pos/transaction.schema.json).
	Topic string `yaml:"topic"`
	// DeadLetterTopic receives the messages that fail validation, with the
	// reasons.
	DeadLetterTopic string `yaml:"dead_letter_topic"`
	// GroupID is the Kafka consumer group of this store's checks; empty
	// means storesight-pos-<store.id>.
	GroupID string `yaml:"group_id"`
	// HTTP serves POST /pos/transactions on metrics.listen: what is posted
	// is validated and written to Topic.
	HTTP bool `yaml:"http"`
	// ClockOffset is added to POS timestamps to get camera time (a POS
	// clock 7 s behind the cameras: 7s). Registers may override it.
	ClockOffset Duration `yaml:"clock_offset"`
	// Before and After bound the window around a transaction in which a
	// customer must be seen in the register's customer zone.
	Before Duration `yaml:"before"`
	After  Duration `yaml:"after"`
	// MaxGap is the longest gap between analysed frames inside the window
	// for the video to count as covering it; without video no alert is
	// raised (the verdict is no_video).
	MaxGap Duration `yaml:"max_gap"`
	// MaxWait is how long a transaction waits for the video to reach the
	// end of its window.
	MaxWait Duration `yaml:"max_wait"`
	// History is how much per-frame presence (and 1 frame per
	// snapshot_every as JPEG) is kept per register camera, so that late
	// POS messages are still checked.
	History       Duration `yaml:"history"`
	SnapshotEvery Duration `yaml:"snapshot_every"`
	// Check lists the transaction types checked: refund, void, no_sale,
	// partial_cancel, sale.
	Check []string `yaml:"check"`
	// RefundTenders limits refund checks to these tenders (cash, card,
	// mobile, voucher, other).
	RefundTenders []string `yaml:"refund_tenders"`
	// Level is the verification level of a no-customer alert; 0 means 3
	// (threat to property).
	Level     int        `yaml:"level"`
	Registers []Register `yaml:"registers"`
}

// Register is one checkout: the camera that sees it and, in that camera's
// pixels, where the customer stands and where the cashier stands.
type Register struct {
	ID           string   `yaml:"id"`
	Camera       string   `yaml:"camera"`
	CustomerZone []Point  `yaml:"customer_zone"`
	StaffZone    []Point  `yaml:"staff_zone"`
	ClockOffset  Duration `yaml:"clock_offset"`
}

// Analytics configures the exception analytics (voids, refunds,
// no-customer refunds per cashier and store, risk ranking) and
// conversion. It reads POS transactions, register checks and entrance
// counts from Kafka, so it runs inside `storesight run` for a single
// store or as `storesight analytics` for a whole chain.
type Analytics struct {
	Enabled bool `yaml:"enabled"`
	// StateDir holds the analytics database (daily and hourly counters,
	// the keys already counted).
	StateDir string `yaml:"state_dir"`
	// GroupID is the Kafka consumer group.
	GroupID string `yaml:"group_id"`
	// DedupWindow is how long a transaction id is remembered so that a
	// re-sent message is counted once.
	DedupWindow Duration `yaml:"dedup_window"`
	// PublishEvery is how often risk and conversion figures go to Kafka
	// (and once at shutdown).
	PublishEvery Duration `yaml:"publish_every"`
	// MinTransactions is the least number of sales a cashier or store needs
	// in a period to be ranked.
	MinTransactions int `yaml:"min_transactions"`
	// Weights of each rate (per 1,000 transactions) in the risk score.
	Weights RiskWeights `yaml:"weights"`
	// Regions assigns stores to regions where the POS messages and events
	// do not say.
	Regions []Region `yaml:"regions"`
}

// Region names a group of stores for roll-ups (store -> region -> HQ).
type Region struct {
	Name   string   `yaml:"name"`
	Stores []string `yaml:"stores"`
}

// RiskWeights weigh each exception rate's robust z-score in the risk score.
type RiskWeights struct {
	NoCustomer     float64 `yaml:"no_customer"`
	CashRefunds    float64 `yaml:"cash_refunds"`
	Voids          float64 `yaml:"voids"`
	PartialCancels float64 `yaml:"partial_cancels"`
	NoSales        float64 `yaml:"no_sales"`
	Refunds        float64 `yaml:"refunds"`
}

func defaultPOS() POS {
	return POS{
		Topic: "storesight.pos", DeadLetterTopic: "storesight.pos.dlq", HTTP: true,
		Before: Duration(20 * time.Second), After: Duration(5 * time.Second),
		MaxGap: Duration(2 * time.Second), MaxWait: Duration(2 * time.Minute),
		History: Duration(10 * time.Minute), SnapshotEvery: Duration(time.Second),
		Check: []string{"refund", "void", "no_sale"}, RefundTenders: []string{"cash"},
		Registers: []Register{},
	}
}

func defaultAnalytics() Analytics {
	return Analytics{
		StateDir: ".storesight/analytics", GroupID: "storesight-analytics",
		DedupWindow: Duration(35 * 24 * time.Hour), PublishEvery: Duration(time.Hour), MinTransactions: 100,
		Weights: RiskWeights{NoCustomer: 3, CashRefunds: 2, Voids: 1, PartialCancels: 1, NoSales: 1, Refunds: 0.5},
		Regions: []Region{},
	}
}
