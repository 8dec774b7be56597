package notifier

import (
	"context"
	"time"

	"github.com/cashbell/cashbell/notifier/store"
)

// ObjectOf is the id of the object an event is about: what its facts are
// kept under.
func ObjectOf(e store.Event) string { return Decode(e, Source{}).Object }

// FactReader reads what enrichment learnt about events' objects (store.Store).
type FactReader interface {
	Facts(ctx context.Context, events []store.Event, objectOf func(store.Event) string) ([]store.Facts, error)
}

// Happenings decodes events for people to read, each with what is known of
// its object, in one read of the store.
func Happenings(ctx context.Context, st FactReader, events []store.Event, source func(account string) Source) ([]Happening, error) {
	facts, err := st.Facts(ctx, events, ObjectOf)
	out := make([]Happening, len(events))
	for i, e := range events {
		out[i] = Decode(e, source(e.Account))
		if i < len(facts) {
			out[i] = out[i].With(facts[i])
		}
	}
	return out, err
}

// History is the store read as what happened: the reads that Activity,
// the tray and `cashbell events` make, whether in this process or through
// the local channel.
type History struct{ *store.Store }

// Facts returns what is known of each event's object.
func (h History) Facts(ctx context.Context, events []store.Event) ([]store.Facts, error) {
	return h.Store.Facts(ctx, events, ObjectOf)
}

// SumDays adds up sales and refunds by local day (SumDays).
func (h History) SumDays(ctx context.Context, accounts []string, today time.Time, n int) (Days, error) {
	return SumDays(ctx, h.Store, accounts, today, n)
}
