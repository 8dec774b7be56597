package notifier

import (
	"context"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/cashbell/cashbell/notifier/store"
)

// ObjectOf is the id of the object an event is about: what its facts are
// kept under.
func ObjectOf(e store.Event) string { return Decode(e, Source{}).Object }

// FactReader reads what enrichment learnt about events' objects (History,
// or the local channel's client).
type FactReader interface {
	Facts(ctx context.Context, events []store.Event) ([]store.Facts, error)
}

// Happenings decodes events for people to read, each with what is known of
// its object, in one read of the store.
func Happenings(ctx context.Context, st FactReader, events []store.Event, source func(account string) Source) ([]Happening, error) {
	facts, err := st.Facts(ctx, events)
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

// Unseen counts, by account and kind id, the bad news not seen yet in
// Activity: every such event in the store, not a recent few.
type Unseen map[string]map[string]int

// Total is how many of a kind are unseen, in every account.
func (u Unseen) Total(kind string) (n int, accounts []string) {
	for a, kinds := range u {
		if kinds[kind] > 0 {
			n += kinds[kind]
			accounts = append(accounts, a)
		}
	}
	slices.Sort(accounts)
	return n, accounts
}

// Unseen counts the bad news not seen in Activity yet, reading only the
// events created since the earliest a kind was seen.
func (h History) Unseen(ctx context.Context) (Unseen, error) {
	set, err := h.Store.Settings(ctx)
	if err != nil {
		return nil, err
	}
	from := int64(math.MaxInt64)
	for _, k := range Kinds {
		if k.Bad {
			from = min(from, set.SeenAt("", k.ID)) // an account's own only come later
		}
	}
	out := Unseen{}
	err = h.Store.Scan(ctx, nil, time.Unix(from+1, 0), time.Unix(from+1, 0), store.Scan{Forward: func(e store.Event) {
		if e.Mark == store.MarkSilent || KindOf(e.Type) == nil {
			return
		}
		h := Decode(e, Source{})
		if h.Kind == nil || !h.Kind.Bad || !h.Listed() || e.Created <= set.SeenAt(e.Account, h.Kind.ID) {
			return
		}
		if out[e.Account] == nil {
			out[e.Account] = map[string]int{}
		}
		out[e.Account][h.Kind.ID]++
	}})
	return out, err
}

// Deadline is an open dispute, as the event that opened it, and when its
// evidence is due.
type Deadline struct {
	Event store.Event
	Due   time.Time // evidence_details.due_by
}

// disputeWindow is how far back open disputes are looked for: Stripe's
// evidence windows are days to a few weeks long.
const disputeWindow = 60 * 24 * time.Hour

// Deadlines are the disputes still open at now whose evidence is due
// after it, soonest first: opened (charge.dispute.created, not prevented)
// and not closed (charge.dispute.closed) since.
func (h History) Deadlines(ctx context.Context, now time.Time) ([]Deadline, error) {
	open := map[string]Deadline{}
	from := now.Add(-disputeWindow)
	err := h.Store.Scan(ctx, nil, from, from, store.Scan{Forward: func(e store.Event) {
		k := KindOf(e.Type)
		if k == nil || k.ID != KindDispute && k.ID != KindDisputeClosed {
			return
		}
		d := Decode(e, Source{})
		id := e.Account + "/" + d.o.str("id")
		if d.Kind.ID != KindDispute {
			delete(open, id) // closed, or prevented
			return
		}
		if due, ok := d.o.num("evidence_details", "due_by"); ok && due > now.Unix() {
			open[id] = Deadline{Event: e, Due: time.Unix(due, 0)}
		}
	}})
	return slices.SortedFunc(maps.Values(open), func(a, b Deadline) int { return a.Due.Compare(b.Due) }), err
}

// SumDays adds up sales and refunds by local day (SumDays), and what they
// moved in the currencies the accounts are paid out in (Days.Payout).
func (h History) SumDays(ctx context.Context, accounts []string, today time.Time, n int) (Days, error) {
	days, err := SumDays(ctx, h.Store, accounts, today, n)
	if err != nil {
		return days, err
	}
	days.Unsettled = make([]int, n)
	// A balance transaction is made with its charge: a little after the
	// charge's event (asynchronous capture), or days before it where the
	// payment took days to succeed (a bank debit); those made from two
	// weeks before the window settle the sales in it.
	err = h.Store.Balances(ctx, accounts, days.Start.AddDate(0, 0, -14), func(_ string, t store.Balance) {
		days.settle(t, today.Location())
	})
	listed := map[string]bool{}
	days.unsettled(func(account string) bool {
		if _, ok := listed[account]; !ok {
			at, err := h.Store.BalancesListed(ctx, account)
			listed[account] = err == nil && !at.IsZero()
		}
		return listed[account]
	})
	return days, err
}
