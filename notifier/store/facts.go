package store

// What enrichment learnt about an object (a charge's customer, product, fee
// and net), kept beside the events so that the Activity window and
// `cashbell events` show it without asking Stripe again:
//
//	details/<account id>/<object id> -> JSON Facts
//	details/<account id>/<event id>  -> JSON Facts   what one event told (a refund's amount)

import (
	"context"
	"encoding/json"

	bolt "go.etcd.io/bbolt"
)

// bucketFacts holds what enrichment learnt, per account and object.
var bucketFacts = []byte("details")

// SaveFacts adds what was learnt about an object (or, keyed by its id, about
// one event) to what was known.
func (s *Store) SaveFacts(ctx context.Context, account, object string, d Facts) error {
	if object == "" {
		return nil
	}
	return s.updateAccount(ctx, bucketFacts, account, func(b *bolt.Bucket) error {
		var known Facts
		if v := b.Get([]byte(object)); v != nil {
			_ = json.Unmarshal(v, &known) // unreadable facts are learnt again
		}
		data, err := json.Marshal(known.Merge(d))
		if err != nil {
			return err
		}
		return b.Put([]byte(object), data)
	})
}

// Facts returns what is known of each event's object (fee and net once
// settled, the customer, the product...), in one read of the store; an
// event whose object nothing is known of gets the zero Facts. objectOf
// names the object an event is about.
func (s *Store) Facts(ctx context.Context, events []Event, objectOf func(Event) string) ([]Facts, error) {
	out := make([]Facts, len(events))
	err := s.view(ctx, func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketFacts)
		for i, e := range events {
			object := objectOf(e)
			b := root.Bucket([]byte(e.Account))
			if b == nil || object == "" {
				continue
			}
			if v := b.Get([]byte(object)); v != nil {
				_ = json.Unmarshal(v, &out[i]) // unreadable details are no details
			}
			// What one event told of its object (which refund a
			// charge.refunded was) is kept under the event's id.
			if v := b.Get([]byte(e.ID)); v != nil {
				var own Facts
				if json.Unmarshal(v, &own) == nil {
					out[i] = out[i].Merge(own)
				}
			}
		}
		return nil
	})
	return out, err
}

// Facts are what enrichment learnt about an event beyond its own object.
// They are kept with the object they describe, so that the Activity window
// and `cashbell events` show them without asking Stripe again.
type Facts struct {
	Email    string `json:"email,omitempty"`
	Name     string `json:"name,omitempty"` // who paid, where the customer has no email
	Country  string `json:"country,omitempty"`
	Product  string `json:"product,omitempty"`
	Fee      int64  `json:"fee,omitempty"`
	Net      int64  `json:"net,omitempty"`
	NetCur   string `json:"net_currency,omitempty"` // currency of Fee and Net; empty when unknown
	Plan     Price  `json:"plan,omitzero"`
	Reason   string `json:"reason,omitempty"`
	Amount   int64  `json:"amount,omitempty"` // an amount the event did not carry
	Currency string `json:"currency,omitempty"`
	Refunded int64  `json:"refunded,omitempty"`
	Charged  int64  `json:"charged,omitempty"`
	// Refund is the refund a charge.refunded told, chosen at delivery.
	Refund string `json:"refund,omitempty"`
	// What a sign-up's first invoice took off its price, and how it was paid.
	Discount int64  `json:"discount,omitempty"`
	Credit   int64  `json:"credit,omitempty"`
	PaidWith string `json:"paid_with,omitempty"`
}

// Merge adds what d learnt to what was known before.
func (known Facts) Merge(d Facts) Facts {
	if d.Email != "" || d.Name != "" {
		known.Email, known.Name, known.Country = d.Email, d.Name, d.Country
	}
	if d.Product != "" {
		known.Product = d.Product
	}
	if d.NetCur != "" {
		known.Fee, known.Net, known.NetCur = d.Fee, d.Net, d.NetCur
	}
	if d.Plan.Currency != "" {
		known.Plan = d.Plan
	}
	if d.Reason != "" {
		known.Reason = d.Reason
	}
	if d.Currency != "" {
		known.Amount, known.Currency = d.Amount, d.Currency
	}
	if d.Charged != 0 {
		known.Refunded, known.Charged = d.Refunded, d.Charged
	}
	if d.PaidWith != "" {
		known.Discount, known.Credit, known.PaidWith = d.Discount, d.Credit, d.PaidWith
	}
	if d.Refund != "" {
		known.Refund = d.Refund
	}
	return known
}

// Price is a price as a plan shows it: "$49.00/month".
type Price struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency,omitempty"`
	Interval string `json:"interval,omitempty"`
	Quantity int64  `json:"quantity,omitempty"`
}
