package store

// The balance transactions of an account's sales, refunds and disputes:
// what each moved in the currency the account is paid out in, after
// Stripe's fee, as Stripe worked it out. Listed after a poll that stored
// money events, never while idle:
//
//	balance/<account id>/<created:8><txn id> -> net, fee, currency, category, source (Balance.encode)
//	balance/<account id>/"\x00listed"        -> <when:8> the first listing

import (
	"cmp"
	"context"
	"encoding/binary"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

var bucketBalance = []byte("balance")

// Balance is one balance transaction, as far as Cashbell reads it
// (BalanceTransaction: currency, fee, net, reporting_category, source;
// stripe/openapi fixtures3.json).
type Balance struct {
	ID       string `json:"id"`
	Created  int64  `json:"created"`
	Currency string `json:"currency"` // the currency the account is paid out in
	Fee      int64  `json:"fee"`
	Net      int64  `json:"net"`
	Category string `json:"reporting_category"`
	Source   string `json:"source"`
}

// encode packs a balance transaction for the store: its net and fee as
// varints, then its currency, category and source, each after its length
// (the id and the time are in the key).
func (t Balance) encode() []byte {
	b := binary.AppendVarint(nil, t.Net)
	b = binary.AppendVarint(b, t.Fee)
	for _, s := range []string{t.Currency, t.Category, t.Source} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

// decodeBalance unpacks what encode packed; ok is false for anything else.
func decodeBalance(key, v []byte) (t Balance, ok bool) {
	if len(key) <= 8 {
		return t, false
	}
	t.Created, t.ID = int64(binary.BigEndian.Uint64(key)), string(key[8:])
	var n int
	if t.Net, n = binary.Varint(v); n <= 0 {
		return t, false
	}
	v = v[n:]
	if t.Fee, n = binary.Varint(v); n <= 0 {
		return t, false
	}
	v = v[n:]
	for _, dst := range []*string{&t.Currency, &t.Category, &t.Source} {
		size, n := binary.Uvarint(v)
		if n <= 0 || uint64(len(v)-n) < size {
			return t, false
		}
		*dst, v = string(v[n:n+int(size)]), v[n+int(size):]
	}
	return t, len(v) == 0
}

// PutBalances keeps balance transactions; with listed set, they are the
// first listing, made then.
func (s *Store) PutBalances(ctx context.Context, account string, txns []Balance, listed time.Time) error {
	return s.updateAccount(ctx, bucketBalance, account, func(b *bolt.Bucket) error {
		if err := putListed(b, listed); err != nil {
			return err
		}
		// Put in key order, pages filled: a listing comes newest first.
		b.FillPercent = 1.0
		txns = slices.Clone(txns)
		slices.SortFunc(txns, func(x, y Balance) int {
			return cmp.Or(cmp.Compare(x.Created, y.Created), cmp.Compare(x.ID, y.ID))
		})
		for _, t := range txns {
			if err := b.Put(balanceKey(t.Created, t.ID), t.encode()); err != nil {
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
	return s.listed(ctx, bucketBalance, account)
}

// Balances calls visit with the balance transactions of the accounts
// (every account when none are named) created from from on, oldest first
// within each account.
func (s *Store) Balances(ctx context.Context, accounts []string, from time.Time, visit func(account string, t Balance)) error {
	return s.view(ctx, func(tx *bolt.Tx) error {
		start := binary.BigEndian.AppendUint64(nil, uint64(max(from.Unix(), 0)))
		return eachAccount(tx.Bucket(bucketBalance), accounts, func(account string, b *bolt.Bucket) error {
			c := b.Cursor()
			for k, v := c.Seek(start); k != nil; k, v = c.Next() {
				if err := ctx.Err(); err != nil {
					return err
				}
				if t, ok := decodeBalance(k, v); ok { // an unreadable one is listed again
					visit(account, t)
				}
			}
			return nil
		})
	})
}
