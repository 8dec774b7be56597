package store

// The events: one bucket per account, keyed by creation time and a sequence
// so that they sort by time and arrive at the end of the tree; each value is
// its id and the event whole, compressed (codec.go). Pages are read newest
// first across accounts.

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Event is a stored Stripe event.
type Event struct {
	ID       string `json:"-"` // stored before the compressed part
	Account  string `json:"-"` // Cashbell's account id: the bucket it is in
	Type     string `json:"type"`
	Created  int64  `json:"created"`
	Livemode bool   `json:"livemode"`
	// APIVersion is the version Stripe rendered the object at: the
	// account's when the event happened.
	APIVersion string          `json:"api_version,omitempty"`
	Object     json.RawMessage `json:"object"`
	Previous   json.RawMessage `json:"previous,omitempty"`

	Mark Mark   `json:"-"` // how it was handled, "" while it is pending
	key  []byte // its key in the history bucket
	// Checked: Object and Previous are compact JSON already (json.Compact
	// checked them as it made them), so storing need not check them again.
	Checked bool `json:"-"`
}

// CreatedTime is when Stripe created the event.
func (e Event) CreatedTime() time.Time { return time.Unix(e.Created, 0) }

// historyKey is an event's key: its creation time and a sequence, big-endian.
func historyKey(created int64, seq uint64) []byte {
	k := make([]byte, 16)
	binary.BigEndian.PutUint64(k, uint64(created))
	binary.BigEndian.PutUint64(k[8:], seq)
	return k
}

// Ingest stores the events of one account that are not stored yet, in the
// order given, and writes st in the same transaction (unless st is nil). New
// events are pending when notify is true; otherwise they are marked silent.
// It returns the events that were new.
func (s *Store) Ingest(ctx context.Context, account string, events []Event, st *PollState, notify bool) ([]Event, error) {
	if len(events) == 0 {
		// An idle poll changes nothing: no write, no sync, no disk woken.
		if st == nil {
			return nil, nil
		}
		if cur, err := s.State(ctx, account); err == nil && cur == *st {
			return nil, nil
		}
	}
	var added []Event
	err := s.update(ctx, func(tx *bolt.Tx) error {
		added = added[:0]
		if tx.Bucket(bucketAccounts).Get([]byte(account)) == nil {
			return nil // removed while polling
		}
		hb := tx.Bucket(bucketHistory).Bucket([]byte(account))
		// Keys mostly arrive in time order, so pages can be filled up.
		hb.FillPercent = 1.0
		pending := tx.Bucket(bucketPending).Bucket([]byte(account))
		marks := tx.Bucket(bucketMarks).Bucket([]byte(account))
		marks.FillPercent = 1.0
		stored := storedSince(hb, events)
		for _, e := range events {
			if stored[e.ID] {
				continue
			}
			stored[e.ID] = true
			seq, err := hb.NextSequence()
			if err != nil {
				return err
			}
			e.Account = account
			e.key = historyKey(e.Created, seq)
			data, err := encodeEvent(e)
			if err != nil {
				return err
			}
			if err := hb.Put(e.key, data); err != nil {
				return err
			}
			if notify {
				err = pending.Put(e.key, nil)
			} else {
				e.Mark = MarkSilent
				err = marks.Put(e.key, []byte{markCodes[MarkSilent]})
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

// storedSince returns which of these events are stored already. An event
// is stored under its creation time, so only the span of times these cover
// can hold one; a fetch goes back in time page by page, so reading on past
// the newest of a page would read every later page again. Ids are compared
// in place, without a copy of each stored one.
func storedSince(hb *bolt.Bucket, events []Event) map[string]bool {
	ids := make(map[string]bool, len(events))
	if len(events) == 0 {
		return ids
	}
	oldest, newest := events[0].Created, events[0].Created
	for _, e := range events {
		ids[e.ID] = false
		oldest, newest = min(oldest, e.Created), max(newest, e.Created)
	}
	end := historyKey(newest+1, 0)
	c := hb.Cursor()
	for k, v := c.Seek(historyKey(oldest, 0)); k != nil && bytes.Compare(k, end) < 0; k, v = c.Next() {
		if len(v) < 2 || len(v) < 1+int(v[0]) {
			continue
		}
		if _, wanted := ids[string(v[1:1+int(v[0])])]; wanted {
			ids[string(v[1:1+int(v[0])])] = true
		}
	}
	return ids
}

func decodeEvent(account string, k, v []byte) (Event, error) {
	var e Event
	if v == nil {
		return e, fmt.Errorf("%w: event %x is missing", ErrDamaged, k)
	}
	if err := decodeValue(v, &e); err != nil {
		return e, fmt.Errorf("event %x: %w", k, err)
	}
	e.Account = account
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
	var out []Event
	err := s.view(ctx, func(tx *bolt.Tx) error {
		evRoot := tx.Bucket(bucketHistory)
		mb := tx.Bucket(bucketMarks)
		type head struct {
			c   *bolt.Cursor
			k   []byte
			v   []byte
			acc string
		}
		var heads []*head
		_ = eachAccount(evRoot, q.Accounts, func(name string, b *bolt.Bucket) error {
			h := &head{c: b.Cursor(), acc: name}
			if q.Before != nil {
				h.k, h.v = seekBefore(h.c, q.Before, name)
			} else {
				h.k, h.v = h.c.Last()
			}
			heads = append(heads, h)
			return nil
		})
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
			e, err := decodeEvent(acc, k, v)
			if err != nil {
				return err
			}
			if len(q.Types) > 0 && !slices.Contains(q.Types, e.Type) {
				continue
			}
			e.Mark = markTx(mb.Bucket([]byte(acc)), k)
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

// Scan is how Store.Scan visits an account's events.
type Scan struct {
	Forward func(Event)      // every event from the start, oldest first
	Back    func(Event) bool // then events before it, newest first, while it returns true
	Done    func()           // after each account
}

// Scan visits the events of some accounts (all when none are named): for
// each account, every event created from from on, oldest first (with how
// it was handled), then the events before from back to back, newest first,
// for as long as Back asks.
func (s *Store) Scan(ctx context.Context, accounts []string, from, back time.Time, visit Scan) error {
	start, end := historyKey(from.Unix(), 0), historyKey(back.Unix(), 0)
	return s.view(ctx, func(tx *bolt.Tx) error {
		return eachAccount(tx.Bucket(bucketHistory), accounts, func(account string, b *bolt.Bucket) error {
			if visit.Done != nil {
				defer visit.Done()
			}
			read := func(k, v []byte) (Event, error) {
				if err := ctx.Err(); err != nil {
					return Event{}, err
				}
				return decodeEvent(account, k, v)
			}
			c := b.Cursor()
			mb := tx.Bucket(bucketMarks).Bucket([]byte(account))
			for k, v := c.Seek(start); k != nil; k, v = c.Next() {
				e, err := read(k, v)
				if err != nil {
					return err
				}
				e.Mark = markTx(mb, k)
				visit.Forward(e)
			}
			if visit.Back == nil {
				return nil
			}
			var k, v []byte
			if first, _ := c.Seek(start); first == nil {
				k, v = c.Last()
			} else {
				k, v = c.Prev()
			}
			for ; k != nil && bytes.Compare(k, end) >= 0; k, v = c.Prev() {
				e, err := read(k, v)
				if err != nil {
					return err
				}
				if !visit.Back(e) {
					break
				}
			}
			return nil
		})
	})
}

// Count returns how many events are stored for an account.
func (s *Store) Count(ctx context.Context, account string) (int, error) {
	n := 0
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketHistory).Bucket([]byte(account)); b != nil {
			n = b.Stats().KeyN
		}
		return nil
	})
	return n, err
}
