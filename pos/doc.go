// Package pos brings point-of-sale (register) transactions into
// storesight and checks the risky ones against the video.
//
// # Ingest
//
// A POS system sends each transaction as its own JSON object (see
// transaction.schema.json, served by Schema) either straight to the Kafka
// topic storesight.pos, keyed "store/register" so a register's
// transactions stay in order, or by HTTP POST /pos/transactions (Ingest),
// which validates and writes them to that topic. Consumer reads the topic
// as a member of a consumer group and hands each valid transaction to a
// Handler, committing its offset only afterwards: delivery is at least
// once, and Transaction.Key with Dedup lets handlers drop repeats.
//
// # Validation and dead letters
//
// Parse is the single gate: strict about types, required fields and
// ranges, tolerant of fields it does not know (POS vendors add fields),
// and it lists every problem of a message, not just the first. Money is
// an int64 of thousandths of the currency unit, read from a number or a
// decimal string without going through a float. Timestamps must carry
// their UTC offset, which is kept, because the store's local day comes
// from it. Nothing is dropped silently: a message that is too large, not
// JSON or not a valid transaction goes to storesight.pos.dlq as a
// DeadLetter (reason, every error, source topic/partition/offset or HTTP
// client, the raw message) with a deterministic id, and consumption goes
// on. Skew measures how late transactions arrive after their POS time.
//
// # Presence and correlation
//
// Presence is a pipeline output that keeps a short history, per register
// camera, of who stood in each register's customer and staff zones, with
// a few JPEG snapshots. Correlator takes the checked transaction types
// (by default refunds paid in cash, voids and no-sales), maps POS time to
// camera time with the register's clock offset, waits until the video
// covers a window around it, and decides: customer present, no customer
// (an alert with the POS reference and a snapshot), or no video (never an
// alert). Each decision is published as a pos_check event. Sales feed an
// estimate of the POS clock's offset against the video.
package pos
