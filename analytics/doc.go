// Package analytics turns register transactions, video verdicts and door
// counts into exception figures and a risk ranking per cashier, store,
// region and HQ, per day, ISO week and month.
//
// # Storage
//
// Facts (one per transaction, no-customer verdict or entrance count) are
// added up into counters in one embedded bbolt file (Store):
//
//   - daily rows per (local date, store, cashier): 13 counters, about 50
//     bytes on a leaf page with key and bbolt's header (measured on the
//     generated history: 5,376 rows in 267 KB). A fleet of 1,000 stores
//     with 10 cashiers each writes 10,000 rows a day: 180 MB a year;
//   - hourly rows per (UTC hour, store): sales and entries, about 35 bytes;
//   - the key of every fact counted within the dedup window: 16 bytes of
//     SHA-256 plus time, twice (lookup and expiry index), about 80 bytes in
//     use per fact. This, not the counters, sizes the file: 1,000 stores
//     at 1,000 transactions a day keep 35 M keys at the default 35-day
//     window, about 3 GB in use (4-5 GB of file). The generated 8-week
//     history (304 k facts, 199 k keys in the window) makes a 52 MB file,
//     30 MB of it allocated pages.
//
// Reports read only counters: a week of the whole fleet above is 70,000
// rows (140,000 with the week before), read in one range scan because
// daily keys start with the date. That is why one file on one box is
// enough: there is no per-transaction table to query, and no database
// server to run beside an in-store box.
//
// Every Add is ONE bbolt transaction that writes the counters and the keys
// of the facts it counted together. A crash, a full disk or a failed
// commit leaves both as they were, so a consumer that commits its Kafka
// offset only after Add returns gets exactly-once counts from an
// at-least-once stream: a fact redelivered after a crash is either already
// in (key present, skipped) or not at all (counted now). Counters and dedup
// keys can never diverge, which they could with two stores.
//
// Kafka is the log of record, not this file. The same code serves one box
// (the embedded broker, one store) and a fleet (one central service
// instance, owning the file, reading every store's topics): the file is a
// materialised view that can be deleted and rebuilt by replaying the
// topics from the start under a new consumer group, as long as their
// retention is within the dedup window (a fact older than the window
// behind the newest one is not counted, because its key may already be
// forgotten). Keys expire by fact time, not wall time, so a replay dedups
// the same way the live run did.
//
// # Risk
//
// For each rate (exceptions per 1,000 sales: voids, cash refunds, non-cash
// refunds, partial cancels, no-sales, no-customer verdicts), an entity is
// compared with its peers: the same level, the same period, at least
// RiskConfig.MinTransactions sales (100), within the query's store or
// region filter (so cashiers are ranked across the whole fleet unless the
// query narrows it). The comparison is a robust z-score:
//
//	z = (x - median(peers)) / scale,  scale = 1.4826·MAD(peers)
//
// where the MAD is the median absolute deviation from the median; when it
// is 0 (most peers alike) the standard deviation is used instead, and the
// scale is never below 1 per 1,000, so one odd cashier cannot make an
// infinite z. The composite score is Σ w·max(z, 0) / Σ w: only being worse
// than the peers counts, and weights (no_customer 3, cash_refunds 2,
// voids, partial_cancels, no_sales 1, refunds 0.5) favour the signals that
// are hard to explain innocently. Rank 1 is the highest score.
//
// x is not the raw rate but the rate shrunk toward the peers' median by
// RiskConfig.Prior pseudo-transactions (default 400, roughly one full-time
// week): x = (count·1000 + Prior·median) / (sales + Prior). Without it the
// formula above treats a part-timer's 112 sales like a full-timer's 500,
// and one chance refund in a quiet week (1 in 112 is 8.9 per 1,000) looks
// like a pattern. On the generated history (12 seeds, a cashier ringing
// one fake cash refund a day for three weeks beside a part-timer's forced
// bad-luck week), the planted cashier ranked first in 20 of 36 dishonest
// weeks with raw rates, 31 with Prior 200 and 36 with Prior 400; in his
// honest weeks he ranked first once in 60 (chance, as for anyone);
// TestRiskAcrossSeeds reproduces this. A negative Prior gives the plain
// formula.
//
// # Roll-ups
//
// A store is the sum of its cashiers' counters, a region the sum of its
// stores (each store in the region the last fact naming one gave), HQ the sum of all;
// rates, averages and scores are recomputed from the sums, never averaged.
package analytics
