package store

// The subscriptions an account has, as their newest state: listed from
// Stripe once a day at most, kept current between listings from the
// customer.subscription.* events the poller stores, so that MRR costs no
// request while idle:
//
//	subs/<account id>/<subscription id> -> <as of:8> the subscription's JSON
//	subs/<account id>/"\x00listed"       -> <when:8> the last listing
//	subs/<account id>/"\x00di:"<id>      -> a discount's JSON, with its coupon

import (
	"bytes"
	"context"
	"encoding/binary"
	"time"

	bolt "go.etcd.io/bbolt"
)

var (
	bucketSubs   = []byte("subs")
	keyListed    = []byte("\x00listed")
	prefixMeta   = []byte("\x00")
	prefixCoupon = []byte("\x00di:")
)

// Subscription is one subscription's state as of a time: its event's
// creation, or the listing's.
type Subscription struct {
	ID   string
	AsOf int64
	JSON []byte
}

// PutSubscriptions keeps each subscription's state unless a newer one is
// kept already; with listed set, the states are a whole listing made then,
// which replaces what was kept before it.
func (s *Store) PutSubscriptions(ctx context.Context, account string, subs []Subscription, listed time.Time) error {
	return s.updateAccount(ctx, bucketSubs, account, func(b *bolt.Bucket) error {
		if !listed.IsZero() {
			// A listing is whole: what it lacks was cancelled long ago or
			// deleted, unless an event told of it since.
			var stale [][]byte
			_ = b.ForEach(func(k, v []byte) error {
				if len(v) >= 8 && int64(binary.BigEndian.Uint64(v)) < listed.Unix() && !bytes.HasPrefix(k, prefixMeta) {
					stale = append(stale, append([]byte(nil), k...))
				}
				return nil
			})
			for _, k := range stale {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
		}
		if err := putListed(b, listed); err != nil {
			return err
		}
		for _, sub := range subs {
			if v := b.Get([]byte(sub.ID)); len(v) >= 8 && int64(binary.BigEndian.Uint64(v)) > sub.AsOf {
				continue // a newer state is kept
			}
			v := binary.BigEndian.AppendUint64(nil, uint64(sub.AsOf))
			if err := b.Put([]byte(sub.ID), append(v, sub.JSON...)); err != nil {
				return err
			}
		}
		return nil
	})
}

// Subscriptions returns an account's subscriptions as kept, and when they
// were last listed (zero: never).
func (s *Store) Subscriptions(ctx context.Context, account string) ([][]byte, time.Time, error) {
	var out [][]byte
	var listed time.Time
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSubs).Bucket([]byte(account))
		if b == nil {
			return nil
		}
		listed = listedIn(b)
		return b.ForEach(func(k, v []byte) error {
			if !bytes.HasPrefix(k, prefixMeta) && len(v) > 8 {
				out = append(out, append([]byte(nil), v[8:]...))
			}
			return nil
		})
	})
	return out, listed, err
}

// SubscriptionsListed is when an account's subscriptions were last listed
// whole (zero: never), without reading them.
func (s *Store) SubscriptionsListed(ctx context.Context, account string) (time.Time, error) {
	return s.listed(ctx, bucketSubs, account)
}

// listed reads when an account's bucket under root was listed.
func (s *Store) listed(ctx context.Context, root []byte, account string) (time.Time, error) {
	var at time.Time
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if b := tx.Bucket(root).Bucket([]byte(account)); b != nil {
			at = listedIn(b)
		}
		return nil
	})
	return at, err
}

// putListed notes when a bucket's listing was made; nothing when zero.
func putListed(b *bolt.Bucket, at time.Time) error {
	if at.IsZero() {
		return nil
	}
	return b.Put(keyListed, binary.BigEndian.AppendUint64(nil, uint64(at.Unix())))
}

// listedIn is when a bucket's listing was made (zero: never).
func listedIn(b *bolt.Bucket) time.Time {
	if v := b.Get(keyListed); len(v) == 8 {
		return time.Unix(int64(binary.BigEndian.Uint64(v)), 0)
	}
	return time.Time{}
}

// PutDiscounts keeps discounts whole, by id: events name a subscription's
// discounts by id alone from 2025-03-31.basil, and MRR needs their coupons.
func (s *Store) PutDiscounts(ctx context.Context, account string, discounts map[string][]byte) error {
	if len(discounts) == 0 {
		return nil
	}
	return s.updateAccount(ctx, bucketSubs, account, func(b *bolt.Bucket) error {
		for id, raw := range discounts {
			if err := b.Put(append(append([]byte(nil), prefixCoupon...), id...), raw); err != nil {
				return err
			}
		}
		return nil
	})
}

// Discounts returns the discounts kept whole for some accounts (every
// account when none are named), by id.
func (s *Store) Discounts(ctx context.Context, accounts ...string) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return eachAccount(tx.Bucket(bucketSubs), accounts, func(_ string, b *bolt.Bucket) error {
			c := b.Cursor()
			for k, v := c.Seek(prefixCoupon); k != nil && bytes.HasPrefix(k, prefixCoupon); k, v = c.Next() {
				out[string(k[len(prefixCoupon):])] = append([]byte(nil), v...)
			}
			return nil
		})
	})
	return out, err
}
