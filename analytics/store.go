package analytics

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/storesight/storesight/pos"
)

// File layout (one bbolt file; see doc.go for why). Keys sort the way
// they are read: daily rows by date first (a report scans a date range),
// hourly rows by store first (conversion is asked per store).
//
//	daily     "YYYYMMDD" | uvarint len(store) | store | cashier  -> row
//	hourly    uvarint len(store) | store | hour start, unix s, 8 B BE -> row
//	stores    store -> region
//	keys      key hash -> fact time, unix ns, 8 B BE
//	keytimes  fact time, unix ns, 8 B BE | key hash -> ""   (pruning index)
//	meta      "format" -> "1"; "newest" -> newest fact time, unix ns
//
// The key hash is the first 16 bytes of SHA-256 of the fact key: fixed
// size whatever the key, and at 2^-128 per pair a collision (a fact wrongly
// taken for a duplicate) will not happen in the life of the file.
//
// A row is a format byte (1) followed by zig-zag varints: Measures' fields
// in their fixed order for daily rows; transactions, sales amount, entries
// for hourly rows. Readers accept rows with fewer fields (counters added
// later read as zero).
var (
	bucketDaily    = []byte("daily")
	bucketHourly   = []byte("hourly")
	bucketStores   = []byte("stores")
	bucketKeys     = []byte("keys")
	bucketKeyTimes = []byte("keytimes")
	bucketMeta     = []byte("meta")
	allBuckets     = [][]byte{bucketDaily, bucketHourly, bucketStores, bucketKeys, bucketKeyTimes, bucketMeta}

	metaFormat = []byte("format")
	metaNewest = []byte("newest")
)

const (
	fileFormat = "1"
	rowFormat  = 1
	// pruneBatch bounds how many expired keys one Add deletes, so pruning a
	// long backlog is spread over many small transactions.
	pruneBatch = 5000
	// futureSlack is how far past the wall clock a fact may move the
	// dedup clock: a POS with a wrong year must not expire every key.
	futureSlack = 24 * time.Hour
)

// StoreOptions configure Open.
type StoreOptions struct {
	// DedupWindow is how long (in fact time, behind the newest fact) a
	// fact's key is remembered. A fact older than that is not counted: it
	// could be a duplicate of one whose key is already forgotten. Keep
	// Kafka's retention of the input topics within it. Default 35 days.
	DedupWindow time.Duration
	Log         *slog.Logger
}

// Store is the analytics database: daily counters per (local date, store,
// cashier), hourly counters per (UTC hour, store), the store -> region map
// and the keys of the facts counted, in one bbolt file. It is safe for
// concurrent use: bbolt runs one writer at a time beside any number of
// readers.
type Store struct {
	db     *bolt.DB
	window time.Duration
	log    *slog.Logger
	now    func() time.Time

	added, duplicates, stale, invalid atomic.Int64
}

// StoreStats counts what Add did with the facts it was given.
type StoreStats struct {
	Added      int64 `json:"added"`
	Duplicates int64 `json:"duplicates"`
	Stale      int64 `json:"stale"`   // older than the dedup window: not counted
	Invalid    int64 `json:"invalid"` // not countable (a bug upstream): not counted
}

// Open opens or creates the store file at path. Only one process can hold
// it; another Open of the same file fails after a few seconds.
func Open(path string, opt StoreOptions) (*Store, error) {
	if opt.DedupWindow <= 0 {
		opt.DedupWindow = 35 * 24 * time.Hour
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 3 * time.Second, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return nil, fmt.Errorf("analytics: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		switch f := meta.Get(metaFormat); {
		case f == nil:
			return meta.Put(metaFormat, []byte(fileFormat))
		case string(f) != fileFormat:
			return fmt.Errorf("file format %q, this build reads %q", f, fileFormat)
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("analytics: open %s: %w", path, err)
	}
	return &Store{db: db, window: opt.DedupWindow, log: opt.Log, now: time.Now}, nil
}

// Close closes the file, after any transaction in progress.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("analytics: close: %w", err)
	}
	return nil
}

// Stats returns what Add did since Open.
func (s *Store) Stats() StoreStats {
	return StoreStats{Added: s.added.Load(), Duplicates: s.duplicates.Load(), Stale: s.stale.Load(), Invalid: s.invalid.Load()}
}

type hourCounts struct{ transactions, sales, entries int64 }

// Add counts the facts whose keys it has not seen, in ONE bbolt
// transaction: the counters and the keys that say they were counted are
// written together or not at all, so a crash or an error between the two
// cannot make a redelivered fact count twice or a counted fact be lost.
// It returns how many facts were counted; the rest were duplicates (also
// within facts), older than the dedup window, or invalid (see Stats). On
// error nothing was written. Callers should pass batches: each Add is one
// fsync.
func (s *Store) Add(facts []Fact) (added int, err error) {
	if len(facts) == 0 {
		return 0, nil
	}
	var dup, stale, invalid int
	err = s.db.Update(func(tx *bolt.Tx) error {
		added, dup, stale, invalid = 0, 0, 0, 0
		daily := map[string]*Measures{}
		hourly := map[string]*hourCounts{}
		regions := map[string]string{}
		keys, keyTimes, meta := tx.Bucket(bucketKeys), tx.Bucket(bucketKeyTimes), tx.Bucket(bucketMeta)
		valid := make([]Fact, 0, len(facts))
		for _, f := range facts {
			if err := f.check(); err != nil {
				invalid++
				s.log.Error("analytics: fact not counted", "key", truncate(f.Key), "kind", f.Kind, "store", truncate(f.Store), "err", err)
				continue
			}
			valid = append(valid, f)
		}
		newest := getTime(meta.Get(metaNewest))
		limit := s.now().Add(futureSlack)
		for _, f := range valid {
			if t := f.Time; t.After(newest) && !t.After(limit) {
				newest = t
			}
		}
		cutoff := newest.Add(-s.window)
		for _, f := range valid {
			if f.Time.Before(cutoff) {
				stale++
				continue
			}
			k := keyHash(f.Key)
			if keys.Get(k) != nil {
				dup++
				continue
			}
			ft := putTime(f.Time)
			if err := keys.Put(k, ft); err != nil {
				return err
			}
			// A new slice: bbolt keeps ft (the value above) until commit.
			if err := keyTimes.Put(append(append(make([]byte, 0, len(ft)+len(k)), ft...), k...), nil); err != nil {
				return err
			}
			added++
			if _, ok := regions[f.Store]; !ok || f.Region != "" {
				regions[f.Store] = f.Region
			}
			if f.Kind != FactEntries {
				dk := string(dailyKey(f.Time, f.Store, f.Cashier))
				if daily[dk] == nil {
					daily[dk] = &Measures{}
				}
				daily[dk].addFact(f)
			}
			if f.Kind == FactSale || f.Kind == FactEntries {
				hk := string(hourlyKey(f.Store, f.Time))
				if hourly[hk] == nil {
					hourly[hk] = &hourCounts{}
				}
				h := hourly[hk]
				if f.Kind == FactSale {
					h.transactions += f.N
					h.sales += int64(f.Amount)
				} else {
					h.entries += f.N
				}
			}
		}
		if err := s.writeRows(tx, daily, hourly, regions); err != nil {
			return err
		}
		if err := meta.Put(metaNewest, putTime(newest)); err != nil {
			return err
		}
		return prune(keys, keyTimes, cutoff)
	})
	if err != nil {
		return 0, fmt.Errorf("analytics: add %d facts: %w", len(facts), err)
	}
	s.added.Add(int64(added))
	s.duplicates.Add(int64(dup))
	s.stale.Add(int64(stale))
	s.invalid.Add(int64(invalid))
	if stale > 0 {
		s.log.Warn("analytics: facts older than the dedup window not counted", "count", stale, "window", s.window)
	}
	return added, nil
}

func (s *Store) writeRows(tx *bolt.Tx, daily map[string]*Measures, hourly map[string]*hourCounts, regions map[string]string) error {
	db, hb, sb := tx.Bucket(bucketDaily), tx.Bucket(bucketHourly), tx.Bucket(bucketStores)
	for k, m := range daily {
		cur, err := decodeMeasures(db.Get([]byte(k)))
		if err != nil {
			return err
		}
		cur.add(*m)
		if err := db.Put([]byte(k), encodeMeasures(cur)); err != nil {
			return err
		}
	}
	for k, h := range hourly {
		v, err := decodeRow(hb.Get([]byte(k)), 3)
		if err != nil {
			return err
		}
		v[0] += h.transactions
		v[1] += h.sales
		v[2] += h.entries
		if err := hb.Put([]byte(k), encodeRow(v)); err != nil {
			return err
		}
	}
	for st, region := range regions {
		old := sb.Get([]byte(st))
		if old != nil && (region == "" || string(old) == region) {
			continue
		}
		if err := sb.Put([]byte(st), []byte(region)); err != nil {
			return err
		}
	}
	return nil
}

// prune forgets at most pruneBatch keys of facts older than cutoff.
func prune(keys, keyTimes *bolt.Bucket, cutoff time.Time) error {
	c := keyTimes.Cursor()
	limit := putTime(cutoff)
	var expired [][]byte
	for k, _ := c.First(); k != nil && len(expired) < pruneBatch && bytes.Compare(k[:8], limit) < 0; k, _ = c.Next() {
		expired = append(expired, bytes.Clone(k))
	}
	for _, k := range expired {
		if err := keyTimes.Delete(k); err != nil {
			return err
		}
		if err := keys.Delete(k[8:]); err != nil {
			return err
		}
	}
	return nil
}

// Hour is one store's counters for one UTC hour.
type Hour struct {
	Start        time.Time `json:"start"`
	Store        string    `json:"store"`
	Transactions int64     `json:"transactions"`
	SalesAmount  pos.Money `json:"sales_amount"`
	Entries      int64     `json:"entries"`
}

// Hours returns store's hours that have any data and overlap [from, to),
// oldest first.
func (s *Store) Hours(store string, from, to time.Time) ([]Hour, error) {
	var out []Hour
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketHourly).Cursor()
		end := hourlyKey(store, to.Add(-time.Nanosecond))
		prefix := end[:len(end)-8]
		for k, v := c.Seek(hourlyKey(store, from)); k != nil && bytes.Compare(k, end) <= 0; k, v = c.Next() {
			if len(k) != len(prefix)+8 || !bytes.HasPrefix(k, prefix) {
				continue
			}
			r, err := decodeRow(v, 3)
			if err != nil {
				return err
			}
			start := time.Unix(int64(binary.BigEndian.Uint64(k[len(prefix):])), 0).UTC()
			out = append(out, Hour{Start: start, Store: store, Transactions: r[0], SalesAmount: pos.Money(r[1]), Entries: r[2]})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("analytics: hours of %s: %w", store, err)
	}
	return out, nil
}

// Stores returns every store seen, with its region ("" when no fact
// named one).
func (s *Store) Stores() (map[string]string, error) {
	var out map[string]string
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		out, err = readStores(tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("analytics: stores: %w", err)
	}
	return out, nil
}

func readStores(tx *bolt.Tx) (map[string]string, error) {
	out := map[string]string{}
	err := tx.Bucket(bucketStores).ForEach(func(k, v []byte) error {
		out[string(k)] = string(v)
		return nil
	})
	return out, err
}

// dayRow is one daily row as read back.
type dayRow struct {
	Date           time.Time
	Store, Cashier string
	Measures
}

// snapshot reads, in one read transaction (so they agree), the store ->
// region map and the daily rows of the local dates in [from, to) (civil
// dates, see Period).
func (s *Store) snapshot(from, to time.Time) (map[string]string, []dayRow, error) {
	var stores map[string]string
	var out []dayRow
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		if stores, err = readStores(tx); err != nil {
			return err
		}
		c := tx.Bucket(bucketDaily).Cursor()
		end := []byte(to.Format("20060102"))
		for k, v := c.Seek([]byte(from.Format("20060102"))); k != nil && bytes.Compare(k[:8], end) < 0; k, v = c.Next() {
			r, err := parseDailyKey(k)
			if err != nil {
				return err
			}
			if r.Measures, err = decodeMeasures(v); err != nil {
				return fmt.Errorf("daily row %q: %w", k, err)
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("analytics: read days %s..%s: %w", from.Format(dateLayout), to.Format(dateLayout), err)
	}
	return stores, out, nil
}

// BucketSize is the space one kind of row takes in the file.
type BucketSize struct {
	Rows int `json:"rows"`
	// Bytes in use on leaf pages: keys, values and bbolt's 16-byte
	// element headers.
	Bytes int `json:"bytes"`
	// Allocated bytes of the bucket's pages (leaf and branch): pages are
	// rarely full.
	Allocated int `json:"allocated"`
}

// StoreSize describes the file: its size on disk and per bucket use.
type StoreSize struct {
	FileBytes int64                 `json:"file_bytes"`
	Buckets   map[string]BucketSize `json:"buckets"`
}

// Size measures the file (for operators sizing a box, and the doc's
// figures).
func (s *Store) Size() (StoreSize, error) {
	out := StoreSize{Buckets: map[string]BucketSize{}}
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			st := tx.Bucket(name).Stats()
			out.Buckets[string(name)] = BucketSize{Rows: st.KeyN, Bytes: st.LeafInuse, Allocated: st.LeafAlloc + st.BranchAlloc}
		}
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("analytics: size: %w", err)
	}
	fi, err := os.Stat(s.db.Path())
	if err != nil {
		return out, fmt.Errorf("analytics: size: %w", err)
	}
	out.FileBytes = fi.Size()
	return out, nil
}

// truncate bounds what a log line repeats of an id that was rejected for
// its length.
func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

func keyHash(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:16]
}

func dailyKey(t time.Time, store, cashier string) []byte {
	k := make([]byte, 0, 8+binary.MaxVarintLen64+len(store)+len(cashier))
	k = t.AppendFormat(k, "20060102") // local date: t keeps its offset
	k = binary.AppendUvarint(k, uint64(len(store)))
	k = append(k, store...)
	return append(k, cashier...)
}

func parseDailyKey(k []byte) (dayRow, error) {
	bad := fmt.Errorf("bad daily key %q", k)
	if len(k) < 9 {
		return dayRow{}, bad
	}
	d, err := time.Parse("20060102", string(k[:8]))
	if err != nil {
		return dayRow{}, bad
	}
	n, w := binary.Uvarint(k[8:])
	if w <= 0 || uint64(len(k)-8-w) < n {
		return dayRow{}, bad
	}
	rest := k[8+w:]
	return dayRow{Date: d, Store: string(rest[:n]), Cashier: string(rest[n:])}, nil
}

func hourlyKey(store string, t time.Time) []byte {
	k := make([]byte, 0, binary.MaxVarintLen64+len(store)+8)
	k = binary.AppendUvarint(k, uint64(len(store)))
	k = append(k, store...)
	return binary.BigEndian.AppendUint64(k, uint64(max(t.Unix(), 0)/3600*3600))
}

// putTime encodes t so byte order is time order (times before 1970 clamp
// to 1970; facts are far younger).
func putTime(t time.Time) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(max(t.UnixNano(), 0)))
}

func getTime(b []byte) time.Time {
	if len(b) != 8 {
		return time.Time{}
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(b)))
}

func encodeRow(v []int64) []byte {
	b := make([]byte, 1, 1+len(v)*3)
	b[0] = rowFormat
	for _, x := range v {
		b = binary.AppendVarint(b, x)
	}
	return b
}

var errBadRow = errors.New("bad row")

// decodeRow reads n counters; missing trailing ones read as zero.
func decodeRow(b []byte, n int) ([]int64, error) {
	v := make([]int64, n)
	if b == nil {
		return v, nil
	}
	if len(b) == 0 || b[0] != rowFormat {
		return nil, errBadRow
	}
	b = b[1:]
	for i := 0; i < n && len(b) > 0; i++ {
		x, w := binary.Varint(b)
		if w <= 0 {
			return nil, errBadRow
		}
		v[i], b = x, b[w:]
	}
	return v, nil
}

func encodeMeasures(m Measures) []byte {
	f := m.fields()
	v := make([]int64, len(f))
	for i, p := range f {
		v[i] = *p
	}
	return encodeRow(v)
}

func decodeMeasures(b []byte) (Measures, error) {
	var m Measures
	f := m.fields()
	v, err := decodeRow(b, len(f))
	if err != nil {
		return m, err
	}
	for i, p := range f {
		*p = v[i]
	}
	return m, nil
}
