package store

// The balance transactions of an account's sales, refunds and disputes:
// what each moved in the currency the account is paid out in, after
// Stripe's fee, as Stripe worked it out. Listed after a poll that stored
// money events, never while idle:
//
//	balance/<account id>/<created:8><txn id> -> JSON Balance
//	balance/<account id>/"\x00listed"        -> <when:8> the first listing

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"time"

	bolt "go.etcd.io/bbolt"
)

var bucketBalance = []byte("balance")

// Balance is one balance transaction, as far as Cashbell reads it
// (BalanceTransaction: amount, currency, fee, net, exchange_rate,
// reporting_category, source; stripe/openapi fixtures3.json).
type Balance struct {
	ID       string  `json:"id"`
	Created  int64   `json:"created"`
	Currency string  `json:"currency"` // the currency the account is paid out in
	Amount   int64   `json:"amount"`
	Fee      int64   `json:"fee"`
	Net      int64   `json:"net"`
	Rate     float64 `json:"exchange_rate,omitempty"`
	Category string  `json:"reporting_category"`
	Source   string  `json:"source"`
}

// PutBalances keeps balance transactions; with listed set, they are the
// first listing, made then.
func (s *Store) PutBalances(ctx context.Context, account string, txns []Balance, listed time.Time) error {
	return s.updateAccount(ctx, bucketBalance, account, func(b *bolt.Bucket) error {
		if !listed.IsZero() {
			if err := b.Put(keyListed, binary.BigEndian.AppendUint64(nil, uint64(listed.Unix()))); err != nil {
				return err
			}
		}
		for _, t := range txns {
			v, err := json.Marshal(t)
			if err != nil {
				return err
			}
			if err := b.Put(balanceKey(t.Created, t.ID), v); err != nil {
				return err
			}
		}
		return nil
	})
}

func balanceKey(created int64, id string) []byte {
	return append(binary.BigEndian.AppendUint64(nil, uint64(created)), id...)
}

// BalancesListed is when an account's balance transactions were first
// listed (zero: never).
func (s *Store) BalancesListed(ctx context.Context, account string) (time.Time, error) {
	var listed time.Time
	err := s.view(ctx, func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketBalance).Bucket([]byte(account)); b != nil {
			if v := b.Get(keyListed); len(v) == 8 {
				listed = time.Unix(int64(binary.BigEndian.Uint64(v)), 0)
			}
		}
		return nil
	})
	return listed, err
}

// Balances calls visit with the balance transactions of the accounts
// (every account when none are named) created from from on, oldest first
// within each account.
func (s *Store) Balances(ctx context.Context, accounts []string, from time.Time, visit func(account string, t Balance)) error {
	return s.view(ctx, func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketBalance)
		if len(accounts) == 0 {
			_ = root.ForEachBucket(func(k []byte) error {
				accounts = append(accounts, string(k))
				return nil
			})
		}
		start := binary.BigEndian.AppendUint64(nil, uint64(max(from.Unix(), 0)))
		for _, account := range accounts {
			b := root.Bucket([]byte(account))
			if b == nil {
				continue
			}
			c := b.Cursor()
			for k, v := c.Seek(start); k != nil; k, v = c.Next() {
				if err := ctx.Err(); err != nil {
					return err
				}
				var t Balance
				if len(k) > 8 && json.Unmarshal(v, &t) == nil { // an unreadable one is listed again
					visit(account, t)
				}
			}
		}
		return nil
	})
}
