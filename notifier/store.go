package notifier

// The store is one bbolt file, mode 0600, under the user's config directory:
//
//	meta/
//	    schema            -> "1"
//	accounts/
//	    <account id>      -> JSON accounts.Account (no key)
//	settings/
//	    global            -> JSON Settings
//	state/
//	    <account id>      -> JSON PollState
//	events/
//	    <account id>/     one bucket per account
//	        <created:8><seq:8> -> JSON Event     big-endian, so keys sort by time
//	event_ids/
//	    <account id>/
//	        <event id>    -> key in events/<account id>
//	outbox/
//	    <account id>/
//	        <events key>  -> nil                 stored, not yet notified
//	notified/
//	    <account id>/
//	        <event id>    -> one Mark byte       how it was handled
//
// An event, its outbox entry and the poll state that moves past it are written
// in one transaction; an event leaves the outbox in the same transaction that
// records how it was notified, before the notification is sent, so a crash can
// lose a notification but never show one twice.

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/cashbell/cashbell/accounts"
)

// SchemaVersion is the layout version written into meta/schema.
const SchemaVersion = "1"

var (
	// bucketMeta holds the schema version.
	bucketMeta = []byte("meta")
	// keySchema is the schema version's key in bucketMeta.
	keySchema = []byte("schema")
	// bucketAccounts holds account metadata by account id.
	bucketAccounts = []byte("accounts")
	// bucketSettings holds the global settings.
	bucketSettings = []byte("settings")
	// keyGlobal is the global settings' key in bucketSettings.
	keyGlobal = []byte("global")
	// bucketState holds each account's poll state.
	bucketState = []byte("state")
	// bucketEvents holds one bucket of events per account, in time order.
	bucketEvents = []byte("events")
	// bucketEventIDs maps event ids to their keys, per account, for de-duplication.
	bucketEventIDs = []byte("event_ids")
	// bucketOutbox lists stored events not yet notified, per account.
	bucketOutbox = []byte("outbox")
	// bucketNotified records how each event was handled, per account.
	bucketNotified = []byte("notified")

	topBuckets = [][]byte{bucketMeta, bucketAccounts, bucketSettings, bucketState, bucketEvents, bucketEventIDs, bucketOutbox, bucketNotified}
	perAccount = [][]byte{bucketEvents, bucketEventIDs, bucketOutbox, bucketNotified}
)

// Store errors.
var (
	ErrAlreadyRunning = errors.New("Cashbell is already running (its store is locked by another Cashbell): use that one, or quit it first")
	ErrStoreNewer     = errors.New("this store was written by a newer Cashbell: update Cashbell, or move the store aside to start afresh")
	ErrReadOnly       = errors.New("the store cannot be written (read-only folder or disk?): free some space or fix the folder's permissions, then restart Cashbell")
)

// Mark says how an event was handled.
type Mark byte

// How an event can be handled.
const (
	MarkSilent     Mark = 's' // stored by a first import or a rebuild: never notified
	MarkNotified   Mark = 'n' // notified on its own
	MarkSummarised Mark = 'g' // covered by a summary notification
	MarkSkipped    Mark = 'k' // not notified: switched off, paused, muted, quiet hours or below the minimum
)

// Event is a stored Stripe event.
type Event struct {
	ID       string          `json:"id"`
	Account  string          `json:"account"` // Cashbell's account id
	Type     string          `json:"type"`
	Created  int64           `json:"created"`
	Livemode bool            `json:"livemode"`
	Object   json.RawMessage `json:"object"`
	Previous json.RawMessage `json:"previous,omitempty"`

	Mark Mark   `json:"-"` // how it was handled, 0 while waiting in the outbox
	key  []byte // its key in the events bucket
}

// CreatedTime is when Stripe created the event.
func (e Event) CreatedTime() time.Time { return time.Unix(e.Created, 0) }

// PollState is what the poller remembers about an account between polls.
type PollState struct {
	Initialized   bool  `json:"initialized"`       // the first import is done
	Rebuild       bool  `json:"rebuild,omitempty"` // refill 30 days silently (after a corrupt store)
	NewestCreated int64 `json:"newest_created"`    // creation time of the newest event seen
}

// Store is Cashbell's bbolt store.
type Store struct {
	db        *bolt.DB
	path      string
	recovered string // where a corrupt file was moved, if it was
}

// OpenOptions configure Open.
type OpenOptions struct {
	Timeout time.Duration // how long to wait for the lock; 1 s when zero
	Logger  *slog.Logger
	Now     func() time.Time
}

// Open opens or creates the store at path. A locked file gives
// ErrAlreadyRunning. A file that is not a readable bbolt store is moved aside
// (see Recovered) and a new one is created; accounts are restored from the
// sidecar copy so their history can be rebuilt from Stripe.
func Open(path string, opts OpenOptions) (*Store, error) {
	if opts.Timeout == 0 {
		opts.Timeout = time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrReadOnly, err)
	}
	s, err := openChecked(path, opts.Timeout)
	if err == nil {
		// A file emptied by a crash or a full disk opens as a new store: bring
		// the accounts back from the sidecar.
		if err := s.restoreAccounts(); err != nil {
			opts.Logger.Warn("accounts not restored", "err", err)
		}
		return s, nil
	}
	if errors.Is(err, ErrAlreadyRunning) || errors.Is(err, ErrStoreNewer) || errors.Is(err, ErrReadOnly) {
		return s, err
	}
	aside := fmt.Sprintf("%s.corrupt-%s", path, opts.Now().UTC().Format("20060102T150405"))
	if rerr := os.Rename(path, aside); rerr != nil {
		return nil, fmt.Errorf("the store %s is damaged (%v) and could not be moved aside: %w", path, err, rerr)
	}
	_ = os.Remove(damagedMark(path))
	opts.Logger.Warn("store was damaged; moved aside and starting afresh", "path", path, "moved_to", aside, "err", err)
	s, err = openChecked(path, opts.Timeout)
	if err != nil {
		return nil, err
	}
	s.recovered = aside
	if err := s.restoreAccounts(); err != nil {
		opts.Logger.Warn("accounts not restored", "err", err)
	}
	return s, nil
}

// damagedMark is a file beside the store that says the store was found
// damaged while in use; the next Open moves the store aside.
func damagedMark(path string) string { return path + ".damaged" }

// openChecked opens the store only once its file looks sound, and turns
// whatever bbolt does on a damaged file into ErrDamaged.
func openChecked(path string, timeout time.Duration) (*Store, error) {
	if _, err := os.Stat(damagedMark(path)); err == nil {
		return nil, fmt.Errorf("%w: it was found damaged while Cashbell ran", ErrDamaged)
	}
	if err := checkMeta(path); err != nil {
		return nil, err
	}
	var s *Store
	err := guard(func() error {
		var err error
		s, err = open(path, timeout)
		return err
	})
	return s, err
}

func open(path string, timeout time.Duration) (*Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout, FreelistType: bolt.FreelistMapType})
	if err != nil {
		switch {
		case errors.Is(err, bolterrors.ErrTimeout):
			return nil, ErrAlreadyRunning
		case errors.Is(err, fs.ErrPermission) || isReadOnlyFS(err):
			return nil, fmt.Errorf("%w: %v", ErrReadOnly, err)
		}
		return nil, err
	}
	s := &Store{db: db, path: path}
	if err := s.initialize(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) initialize() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, name := range topBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("creating bucket %s: %w", name, err)
			}
		}
		meta := tx.Bucket(bucketMeta)
		switch v := meta.Get(keySchema); {
		case v == nil:
			return meta.Put(keySchema, []byte(SchemaVersion))
		case string(v) != SchemaVersion:
			return ErrStoreNewer
		}
		return nil
	})
}

// Recovered is where a damaged store was moved by Open, or "".
func (s *Store) Recovered() string { return s.recovered }

// Path is the store's file.
func (s *Store) Path() string { return s.path }

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

func (s *Store) update(ctx context.Context, f func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.guard(func() error { return s.db.Update(f) })
	if err != nil && (isReadOnlyFS(err) || isNoSpace(err)) {
		return fmt.Errorf("%w: %v", ErrReadOnly, err)
	}
	return err
}

func (s *Store) view(ctx context.Context, f func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.guard(func() error { return s.db.View(f) })
}

// guard runs a transaction, and when bbolt trips over a damaged page leaves
// a mark so that the next start moves the store aside and rebuilds it. bbolt
// rolls the transaction back as the panic passes.
func (s *Store) guard(f func() error) error {
	err := guard(f)
	if errors.Is(err, ErrDamaged) {
		_ = os.WriteFile(damagedMark(s.path), []byte(err.Error()+"\n"), 0o600)
		return fmt.Errorf("%w: it will be moved aside and your history rebuilt from Stripe when Cashbell next starts (%v)", ErrDamaged, err)
	}
	return err
}

// ---- accounts ----

var _ accounts.Records = (*Store)(nil)

// SaveAccount writes an account's metadata and mirrors all accounts to the
// sidecar file that survives a damaged store.
func (s *Store) SaveAccount(ctx context.Context, a accounts.Account) error {
	data, err := json.Marshal(a)
	if err != nil {
		return err
	}
	err = s.update(ctx, func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketAccounts).Put([]byte(a.ID), data); err != nil {
			return err
		}
		return accountBucketsTx(tx, a.ID)
	})
	if err != nil {
		return err
	}
	return s.writeSidecar(ctx)
}

func accountBucketsTx(tx *bolt.Tx, id string) error {
	for _, name := range perAccount {
		if _, err := tx.Bucket(name).CreateBucketIfNotExists([]byte(id)); err != nil {
			return err
		}
	}
	return nil
}

// Accounts lists every account, by name.
func (s *Store) Accounts(ctx context.Context) ([]accounts.Account, error) {
	var out []accounts.Account
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAccounts).ForEach(func(_, v []byte) error {
			var a accounts.Account
			if err := json.Unmarshal(v, &a); err != nil {
				return fmt.Errorf("reading an account: %w", err)
			}
			out = append(out, a)
			return nil
		})
	})
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].ID < out[j].ID
	})
	return out, err
}

// DeleteAccount removes an account with all its events, state and marks.
func (s *Store) DeleteAccount(ctx context.Context, id string) error {
	err := s.update(ctx, func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketAccounts).Delete([]byte(id)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketState).Delete([]byte(id)); err != nil {
			return err
		}
		for _, name := range perAccount {
			if err := tx.Bucket(name).DeleteBucket([]byte(id)); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return s.writeSidecar(ctx)
}

func (s *Store) sidecarPath() string { return s.path + ".accounts.json" }

func (s *Store) writeSidecar(ctx context.Context) error {
	all, err := s.Accounts(ctx)
	if err != nil {
		return err
	}
	data, _ := json.MarshalIndent(all, "", "  ")
	tmp := s.sidecarPath() + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("%w: %v", ErrReadOnly, err)
	}
	return os.Rename(tmp, s.sidecarPath())
}

// restoreAccounts brings accounts back from the sidecar into a store that has
// none, and asks the poller to rebuild their history silently.
func (s *Store) restoreAccounts() error {
	empty := true
	_ = s.db.View(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket(bucketAccounts).Cursor().First()
		empty = k == nil
		return nil
	})
	if !empty {
		return nil
	}
	data, err := os.ReadFile(s.sidecarPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var all []accounts.Account
	if err := json.Unmarshal(data, &all); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, a := range all {
			v, _ := json.Marshal(a)
			if err := tx.Bucket(bucketAccounts).Put([]byte(a.ID), v); err != nil {
				return err
			}
			if err := accountBucketsTx(tx, a.ID); err != nil {
				return err
			}
			st, _ := json.Marshal(PollState{Rebuild: true})
			if err := tx.Bucket(bucketState).Put([]byte(a.ID), st); err != nil {
				return err
			}
		}
		return nil
	})
}

// ---- settings and state ----

// Settings returns the global settings, with defaults filled in.
func (s *Store) Settings(ctx context.Context) (Settings, error) {
	set := DefaultSettings()
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketSettings).Get(keyGlobal); v != nil {
			return json.Unmarshal(v, &set)
		}
		return nil
	})
	set.upgrade()
	return set, err
}

// SaveSettings writes the global settings.
func (s *Store) SaveSettings(ctx context.Context, set Settings) error {
	data, err := json.Marshal(set)
	if err != nil {
		return err
	}
	return s.update(ctx, func(tx *bolt.Tx) error { return tx.Bucket(bucketSettings).Put(keyGlobal, data) })
}

// State returns an account's poll state.
func (s *Store) State(ctx context.Context, account string) (PollState, error) {
	var st PollState
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		st, err = stateTx(tx, account)
		return err
	})
	return st, err
}

func stateTx(tx *bolt.Tx, account string) (PollState, error) {
	var st PollState
	if v := tx.Bucket(bucketState).Get([]byte(account)); v != nil {
		if err := json.Unmarshal(v, &st); err != nil {
			return st, fmt.Errorf("reading poll state: %w", err)
		}
	}
	return st, nil
}

func putStateTx(tx *bolt.Tx, account string, st PollState) error {
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketState).Put([]byte(account), data)
}

// SaveState writes an account's poll state on its own.
func (s *Store) SaveState(ctx context.Context, account string, st PollState) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketAccounts).Get([]byte(account)) == nil {
			return nil // removed meanwhile
		}
		return putStateTx(tx, account, st)
	})
}

// ---- events ----

func eventKey(created int64, seq uint64) []byte {
	k := make([]byte, 16)
	binary.BigEndian.PutUint64(k, uint64(created))
	binary.BigEndian.PutUint64(k[8:], seq)
	return k
}

// Ingest stores the events of one account that are not stored yet, in the
// order given, and writes st in the same transaction (unless st is nil). New
// events go to the outbox when notify is true; otherwise they are marked
// silent. It returns the events that were new.
func (s *Store) Ingest(ctx context.Context, account string, events []Event, st *PollState, notify bool) ([]Event, error) {
	var added []Event
	err := s.update(ctx, func(tx *bolt.Tx) error {
		added = added[:0]
		if tx.Bucket(bucketAccounts).Get([]byte(account)) == nil {
			return nil // removed while polling
		}
		evb := tx.Bucket(bucketEvents).Bucket([]byte(account))
		// Keys mostly arrive in time order, so pages can be filled up.
		evb.FillPercent = 0.9
		ids := tx.Bucket(bucketEventIDs).Bucket([]byte(account))
		outbox := tx.Bucket(bucketOutbox).Bucket([]byte(account))
		marks := tx.Bucket(bucketNotified).Bucket([]byte(account))
		for _, e := range events {
			if ids.Get([]byte(e.ID)) != nil {
				continue
			}
			seq, err := evb.NextSequence()
			if err != nil {
				return err
			}
			e.Account = account
			e.key = eventKey(e.Created, seq)
			data, err := json.Marshal(e)
			if err != nil {
				return err
			}
			if err := evb.Put(e.key, data); err != nil {
				return err
			}
			if err := ids.Put([]byte(e.ID), e.key); err != nil {
				return err
			}
			if notify {
				err = outbox.Put(e.key, nil)
			} else {
				e.Mark = MarkSilent
				err = marks.Put([]byte(e.ID), []byte{byte(MarkSilent)})
			}
			if err != nil {
				return err
			}
			added = append(added, e)
		}
		if st != nil {
			return putStateTx(tx, account, *st)
		}
		return nil
	})
	return added, err
}

// Outbox returns an account's stored events that wait for notification, oldest first.
func (s *Store) Outbox(ctx context.Context, account string) ([]Event, error) {
	var out []Event
	err := s.view(ctx, func(tx *bolt.Tx) error {
		ob := tx.Bucket(bucketOutbox).Bucket([]byte(account))
		evb := tx.Bucket(bucketEvents).Bucket([]byte(account))
		if ob == nil || evb == nil {
			return nil
		}
		return ob.ForEach(func(k, _ []byte) error {
			e, err := decodeEvent(k, evb.Get(k))
			if err != nil {
				return err
			}
			out = append(out, e)
			return nil
		})
	})
	return out, err
}

// MarkEvents takes events out of the outbox and records how they were handled,
// in one transaction. The caller sends notifications only after this returns.
func (s *Store) MarkEvents(ctx context.Context, account string, marks map[string]Mark) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		ob := tx.Bucket(bucketOutbox).Bucket([]byte(account))
		ids := tx.Bucket(bucketEventIDs).Bucket([]byte(account))
		nb := tx.Bucket(bucketNotified).Bucket([]byte(account))
		if ob == nil {
			return nil
		}
		for id, m := range marks {
			if k := ids.Get([]byte(id)); k != nil {
				if err := ob.Delete(k); err != nil {
					return err
				}
			}
			if err := nb.Put([]byte(id), []byte{byte(m)}); err != nil {
				return err
			}
		}
		return nil
	})
}

func decodeEvent(k, v []byte) (Event, error) {
	var e Event
	if v == nil {
		return e, fmt.Errorf("%w: event %x is missing", ErrDamaged, k)
	}
	if err := json.Unmarshal(v, &e); err != nil {
		return e, fmt.Errorf("%w: event %x cannot be read (%v)", ErrDamaged, k, err)
	}
	e.key = slices.Clone(k)
	return e, nil
}

// Query selects stored events for Page.
type Query struct {
	Accounts []string // none means all
	Types    []string // none means all
	Before   *Cursor  // start after this position (exclusive); nil for the newest
	Limit    int
}

// Cursor is a position in the merged, newest-first history.
type Cursor struct {
	Created int64
	Key     []byte
	Account string
}

// Page returns up to q.Limit events, newest first, merged across accounts, and
// the cursor of the last one for the next page. It reads only what it returns
// (plus filtered-out events), so it stays fast over a large history.
func (s *Store) Page(ctx context.Context, q Query) ([]Event, *Cursor, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	types := map[string]bool{}
	for _, t := range q.Types {
		types[t] = true
	}
	var out []Event
	err := s.view(ctx, func(tx *bolt.Tx) error {
		evRoot := tx.Bucket(bucketEvents)
		nb := tx.Bucket(bucketNotified)
		names := q.Accounts
		if len(names) == 0 {
			_ = evRoot.ForEachBucket(func(k []byte) error { names = append(names, string(k)); return nil })
		}
		type head struct {
			c   *bolt.Cursor
			k   []byte
			v   []byte
			acc string
		}
		var heads []*head
		for _, name := range names {
			b := evRoot.Bucket([]byte(name))
			if b == nil {
				continue
			}
			h := &head{c: b.Cursor(), acc: name}
			if q.Before != nil {
				h.k, h.v = seekBefore(h.c, q.Before, name)
			} else {
				h.k, h.v = h.c.Last()
			}
			heads = append(heads, h)
		}
		for len(out) < q.Limit {
			var best *head
			for _, h := range heads {
				if h.k != nil && (best == nil || bytes.Compare(h.k, best.k) > 0 || bytes.Equal(h.k, best.k) && h.acc > best.acc) {
					best = h
				}
			}
			if best == nil {
				break
			}
			k, v, acc := best.k, best.v, best.acc
			best.k, best.v = best.c.Prev()
			e, err := decodeEvent(k, v)
			if err != nil {
				return err
			}
			if len(types) > 0 && !types[e.Type] {
				continue
			}
			if m := nb.Bucket([]byte(acc)); m != nil {
				if mv := m.Get([]byte(e.ID)); len(mv) == 1 {
					e.Mark = Mark(mv[0])
				}
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil || len(out) == 0 {
		return out, nil, err
	}
	last := out[len(out)-1]
	return out, &Cursor{Created: last.Created, Key: last.key, Account: last.Account}, nil
}

// seekBefore positions c on the newest item that comes after the cursor in
// newest-first order across accounts (key smaller, or equal key and smaller
// account name).
func seekBefore(c *bolt.Cursor, cur *Cursor, account string) ([]byte, []byte) {
	k, v := c.Seek(cur.Key)
	if k == nil {
		return c.Last()
	}
	if bytes.Equal(k, cur.Key) && account < cur.Account {
		return k, v
	}
	return c.Prev()
}

// Latest returns an account's newest n events, newest first.
func (s *Store) Latest(ctx context.Context, account string, n int) ([]Event, error) {
	out, _, err := s.Page(ctx, Query{Accounts: []string{account}, Limit: n})
	return out, err
}

// Since returns events of all accounts created at or after t, newest first.
func (s *Store) Since(ctx context.Context, t time.Time) ([]Event, error) {
	var out []Event
	from := eventKey(t.Unix(), 0)
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketEvents).ForEachBucket(func(name []byte) error {
			c := tx.Bucket(bucketEvents).Bucket(name).Cursor()
			for k, v := c.Seek(from); k != nil; k, v = c.Next() {
				e, err := decodeEvent(k, v)
				if err != nil {
					return err
				}
				out = append(out, e)
			}
			return nil
		})
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created > out[j].Created })
	return out, err
}

// Count returns how many events are stored for an account.
func (s *Store) Count(ctx context.Context, account string) (int, error) {
	n := 0
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketEvents).Bucket([]byte(account)); b != nil {
			n = b.Stats().KeyN
		}
		return nil
	})
	return n, err
}

// Marks returns how every event of an account was handled, by event id.
// Events still in the outbox are absent.
func (s *Store) Marks(ctx context.Context, account string) (map[string]Mark, error) {
	out := map[string]Mark{}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketNotified).Bucket([]byte(account))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			if len(v) == 1 {
				out[string(k)] = Mark(v[0])
			}
			return nil
		})
	})
	return out, err
}
