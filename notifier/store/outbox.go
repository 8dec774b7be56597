package store

// The outbox and the marks: an event waits in its account's pending bucket
// until delivery decides how to handle it, and leaves it in the same
// transaction that records that decision (its Mark), before anything is
// shown. A crash can therefore lose a notification but never show one twice.

import (
	"bytes"
	"context"

	bolt "go.etcd.io/bbolt"
)

// Mark says how an event was handled.
type Mark string

// How an event can be handled.
const (
	MarkSilent     Mark = "silent"     // stored by a first import or a rebuild: never notified
	MarkNotified   Mark = "notified"   // notified on its own
	MarkSummarised Mark = "summarised" // told within a burst (or counted in one)
	MarkSkipped    Mark = "skipped"    // not notified: switched off, muted or below the minimum
	MarkRepeat     Mark = "repeat"     // another event told the same happening (Happening.Key)
)

// bucketTold holds, per account, the keys of the happenings already told
// (Happening.Key), so that a refund announced by refund.created is not
// announced again by the charge.refunded that follows it a poll later:
//
//	told/<account id>/<happening key> -> event id
var bucketTold = []byte("told")

// Outbox returns an account's stored events that wait for notification, oldest first.
func (s *Store) Outbox(ctx context.Context, account string) ([]Event, error) {
	var out []Event
	err := s.view(ctx, func(tx *bolt.Tx) error {
		pb := tx.Bucket(bucketPending).Bucket([]byte(account))
		hb := tx.Bucket(bucketHistory).Bucket([]byte(account))
		if pb == nil || hb == nil {
			return nil
		}
		return pb.ForEach(func(k, _ []byte) error {
			e, err := decodeEvent(account, k, hb.Get(k))
			if err != nil {
				return err
			}
			out = append(out, e)
			return nil
		})
	})
	return out, err
}

// MarkEvents takes pending events out of the outbox and records how they were
// handled, by event id, in one transaction, with the keys of the happenings
// they tell (event id → Happening.Key). The caller sends notifications only
// after this returns.
func (s *Store) MarkEvents(ctx context.Context, account string, marks map[string]Mark, keys map[string]string) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		pb := tx.Bucket(bucketPending).Bucket([]byte(account))
		hb := tx.Bucket(bucketHistory).Bucket([]byte(account))
		mb := tx.Bucket(bucketMarks).Bucket([]byte(account))
		if pb == nil || hb == nil || mb == nil {
			return nil // removed meanwhile
		}
		if err := putTold(tx, account, marks, keys); err != nil {
			return err
		}
		mb.FillPercent = 1.0
		var done [][]byte
		err := pb.ForEach(func(k, _ []byte) error {
			id, _, ok := valueHead(hb.Get(k))
			m, chosen := marks[id]
			if !ok || !chosen {
				return nil
			}
			done = append(done, bytes.Clone(k))
			return mb.Put(k, []byte{markCodes[m]})
		})
		if err != nil {
			return err
		}
		for _, k := range done {
			if err := pb.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// putTold records the keys of the happenings the marked events tell.
func putTold(tx *bolt.Tx, account string, marks map[string]Mark, keys map[string]string) error {
	var tb *bolt.Bucket
	for id, key := range keys {
		if _, marked := marks[id]; !marked || key == "" {
			continue
		}
		if tb == nil {
			var err error
			if tb, err = tx.Bucket(bucketTold).CreateBucketIfNotExists([]byte(account)); err != nil {
				return err
			}
		}
		if tb.Get([]byte(key)) == nil {
			if err := tb.Put([]byte(key), []byte(id)); err != nil {
				return err
			}
		}
	}
	return nil
}

// Told reports whether key belongs to a happening already told.
func (s *Store) Told(ctx context.Context, account, key string) (bool, error) {
	told := false
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if tb := tx.Bucket(bucketTold).Bucket([]byte(account)); tb != nil {
			told = tb.Get([]byte(key)) != nil
		}
		return nil
	})
	return told, err
}

// markTx is how the event at k was handled, or "" while it is pending.
func markTx(mb *bolt.Bucket, k []byte) Mark {
	if mb == nil {
		return ""
	}
	if code := mb.Get(k); len(code) == 1 {
		return markOf(code[0])
	}
	return ""
}

// Marks returns how every event of an account was handled, by event id.
// Pending events are absent.
func (s *Store) Marks(ctx context.Context, account string) (map[string]Mark, error) {
	out := map[string]Mark{}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		hb := tx.Bucket(bucketHistory).Bucket([]byte(account))
		mb := tx.Bucket(bucketMarks).Bucket([]byte(account))
		if hb == nil || mb == nil {
			return nil
		}
		return mb.ForEach(func(k, code []byte) error {
			if id, _, ok := valueHead(hb.Get(k)); ok && len(code) == 1 {
				out[id] = markOf(code[0])
			}
			return nil
		})
	})
	return out, err
}
