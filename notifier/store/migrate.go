package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// The layout schema 1 wrote (see testdata/schema1.db):
//
//	events/<account>/<created:8><seq:8>  -> the event as plain JSON
//	event_ids/<account>/<event id>       -> its key in events/
//	outbox/<account>/<events key>        -> nil
//	notified/<account>/<event id>        -> one letter: s, n, g or k
var (
	v1Events   = []byte("events")
	v1EventIDs = []byte("event_ids")
	v1Outbox   = []byte("outbox")
	v1Notified = []byte("notified")
	v1Marks    = map[byte]Mark{'s': MarkSilent, 'n': MarkNotified, 'g': MarkSummarised, 'k': MarkSkipped}
)

// migrateBatch is how many events one migration transaction moves, so that
// a large store never needs all its pages in memory at once.
const migrateBatch = 2000

// migrateFrom1 moves a schema 1 store to schema 2: each event is rewritten
// under its new key with its mark and compressed, pending events stay
// pending, and settings switch kinds by ID. It goes in batches; if it is
// interrupted, the next Open starts it again (every write is idempotent) and
// the schema version changes only in the last transaction, which also drops
// the old buckets.
func (s *Store) migrateFrom1() error {
	var names [][]byte
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(v1Events); b != nil {
			return b.ForEachBucket(func(k []byte) error { names = append(names, bytes.Clone(k)); return nil })
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, name := range names {
		if err := s.moveEvents(name); err != nil {
			return fmt.Errorf("moving the store to schema %s: %w", SchemaVersion, err)
		}
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, old := range [][]byte{v1Events, v1EventIDs, v1Outbox, v1Notified} {
			if tx.Bucket(old) != nil {
				if err := tx.DeleteBucket(old); err != nil {
					return err
				}
			}
		}
		if v := tx.Bucket(bucketSettings).Get(keyGlobal); v != nil {
			var set Settings
			if json.Unmarshal(v, &set) == nil {
				set.upgrade()
				if data, err := json.Marshal(set); err == nil {
					if err := tx.Bucket(bucketSettings).Put(keyGlobal, data); err != nil {
						return err
					}
				}
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchema, []byte(SchemaVersion))
	})
}

// moveEvents moves one account's events from events/ to history/.
func (s *Store) moveEvents(account []byte) error {
	var from []byte
	for {
		var next []byte
		err := s.db.Update(func(tx *bolt.Tx) error {
			old := tx.Bucket(v1Events).Bucket(account)
			outbox := tx.Bucket(v1Outbox).Bucket(account)
			letters := tx.Bucket(v1Notified).Bucket(account)
			if err := accountBucketsTx(tx, string(account)); err != nil {
				return err
			}
			hb, pb, mb := tx.Bucket(bucketHistory).Bucket(account), tx.Bucket(bucketPending).Bucket(account), tx.Bucket(bucketMarks).Bucket(account)
			hb.FillPercent = 1.0
			// New keys go on from the old sequence, so none can meet a moved one.
			if err := hb.SetSequence(max(hb.Sequence(), old.Sequence())); err != nil {
				return err
			}
			c := old.Cursor()
			k, v := c.First()
			if from != nil {
				k, v = c.Seek(from)
			}
			for n := 0; k != nil; k, v = c.Next() {
				if n == migrateBatch {
					next = bytes.Clone(k)
					return nil
				}
				n++
				var e struct {
					Event
					ID string `json:"id"` // schema 1 kept the id in the JSON
				}
				if err := json.Unmarshal(v, &e); err != nil {
					return fmt.Errorf("%w: event %x cannot be read (%v)", ErrDamaged, k, err)
				}
				e.Event.ID, e.Account = e.ID, string(account)
				waiting := outbox != nil && outbox.Get(k) != nil
				data, err := encodeEvent(e.Event)
				if err != nil {
					return err
				}
				key := historyKey(e.Created, binary.BigEndian.Uint64(k[8:])) // the same sequence: a second run writes the same keys
				if err := hb.Put(key, data); err != nil {
					return err
				}
				if waiting {
					if err := pb.Put(key, nil); err != nil {
						return err
					}
				} else if letters != nil {
					if m, ok := v1Marks[firstByte(letters.Get([]byte(e.ID)))]; ok {
						if err := mb.Put(key, []byte{markCodes[m]}); err != nil {
							return err
						}
					}
				}
			}
			return nil
		})
		if err != nil || next == nil {
			return err
		}
		from = next
	}
}

func firstByte(b []byte) byte {
	if len(b) == 0 {
		return 0
	}
	return b[0]
}
