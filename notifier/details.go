package notifier

// What enrichment learnt about an object (a charge's customer, product, fee
// and net), kept beside the events so that the Activity window and
// `cashbell events` show it without asking Stripe again:
//
//	details/<account id>/<object id> -> JSON Details
//	details/<account id>/<event id>  -> JSON Details   what one event told (a refund's amount)

import (
	"context"
	"encoding/json"

	bolt "go.etcd.io/bbolt"
)

// bucketDetails holds what enrichment learnt, per account and object.
var bucketDetails = []byte("details")

// SaveDetails adds what was learnt about an object to what was known.
func (s *Store) SaveDetails(ctx context.Context, account, object string, d Details) error {
	if object == "" {
		return nil
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketAccounts).Get([]byte(account)) == nil {
			return nil // removed meanwhile
		}
		b, err := tx.Bucket(bucketDetails).CreateBucketIfNotExists([]byte(account))
		if err != nil {
			return err
		}
		var known Details
		if v := b.Get([]byte(object)); v != nil {
			_ = json.Unmarshal(v, &known) // unreadable details are learnt again
		}
		data, err := json.Marshal(known.merge(d))
		if err != nil {
			return err
		}
		return b.Put([]byte(object), data)
	})
}

// Happenings decodes events for people to read, each with what is known of
// its object, in one read of the store.
func (s *Store) Happenings(ctx context.Context, events []Event, source func(account string) Source) ([]Happening, error) {
	details, err := s.Details(ctx, events)
	out := make([]Happening, len(events))
	for i, e := range events {
		out[i] = Decode(e, source(e.Account))
		if i < len(details) {
			out[i] = out[i].With(details[i])
		}
	}
	return out, err
}

// Details returns what is known of each event's object (fee and net once
// settled, the customer, the product...), in one read of the store; an
// event whose object nothing is known of gets the zero Details.
func (s *Store) Details(ctx context.Context, events []Event) ([]Details, error) {
	out := make([]Details, len(events))
	err := s.view(ctx, func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketDetails)
		for i, e := range events {
			object := Decode(e, Source{}).Object
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
				var own Details
				if json.Unmarshal(v, &own) == nil {
					out[i] = out[i].merge(own)
				}
			}
		}
		return nil
	})
	return out, err
}
