package poller

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"github.com/cashbell/cashbell/accounts"
	"github.com/cashbell/cashbell/notifier"
	"github.com/cashbell/cashbell/notifier/desktop"
	"github.com/cashbell/cashbell/notifier/store"
)

// Sink shows notifications on the desktop.
type Sink interface {
	// Notify shows n and returns the id the notification service gave it,
	// or 0 where there are no ids.
	Notify(ctx context.Context, n desktop.Notification) (uint32, error)
}

// A readier is a Sink that needs a moment before it can show anything (a
// bus to connect to, a server's capabilities to read). deliver lets it take
// that moment before events are marked as told, not between the mark and
// the showing, where a crash would lose them.
type readier interface {
	Ready(ctx context.Context) error
}

// deliver notifies an account's waiting events: each kind of bad news as
// one loud notification, and the good news as one more, each growing in
// place while more arrives (a run: a burst). A single happening reads as
// itself. Each event is
// decoded once, and marked in the store just before the notification that
// tells it is shown, so none is ever shown twice.
func (s *Service) deliver(ctx context.Context, a accounts.Account, c *client.API, params stripe.Params) error {
	pending, err := s.store.Outbox(ctx, a.ID)
	if err != nil || len(pending) == 0 {
		return err
	}
	set, err := s.store.Settings(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	// Paused or in quiet hours, the events wait in the outbox: when
	// notifications resume they are told, the good news in one summary of
	// what was held back ("While paused: 12 sales"), bad news on its own.
	if why := heldBack(set, now); why != "" && !a.Muted {
		s.mu.Lock()
		s.held[a.ID] = why
		s.mu.Unlock()
		return nil
	}
	s.mu.Lock()
	heldWhy := s.held[a.ID]
	delete(s.held, a.ID)
	s.mu.Unlock()
	silenced := a.Muted
	src := notifier.Source{Name: a.Name, Live: a.Live(), Connected: a.ConnectedID()}
	marks := make(map[string]store.Mark, len(pending))
	keys := map[string]string{} // event id → the happening it tells, where several events can
	claimed := map[string]bool{}
	told := func(key string) bool {
		if !claimed[key] {
			got, err := s.store.Told(ctx, a.ID, key)
			claimed[key] = err == nil && got
		}
		return claimed[key]
	}
	chosen := make([]notifier.Happening, 0, len(pending))
	for _, e := range pending {
		if notifier.IsSettlement(e.Type) {
			s.settlement(ctx, c, params, a, e)
			marks[e.ID] = store.MarkSilent
			continue
		}
		h := notifier.Decode(e, src)
		if !h.Notifies() {
			marks[e.ID] = store.MarkSkipped
			continue
		}
		if h.Pending() { // what it is, or its amount, is not in the event: learn it before judging
			var d store.Facts
			h, d = s.enrich(ctx, c, params, a, h)
			s.keep(ctx, a, h.Object, d)
			if !h.Notifies() {
				marks[e.ID] = store.MarkSkipped
				continue
			}
		}
		// Several events can tell one happening (a refund): the first one
		// tells it, even while notifications are held back, and the others
		// repeat it.
		if picked, ok := h.PickRefund(told); !ok {
			marks[e.ID] = store.MarkRepeat
			continue
		} else if picked {
			// Activity and `cashbell events` show this refund's amount, not
			// the charge's running total.
			s.keep(ctx, a, e.ID, store.Facts{Amount: h.Amount, Currency: h.Currency, Refund: h.RefundID()})
		}
		if k := h.Key(); k != "" {
			if told(k) {
				marks[e.ID] = store.MarkRepeat
				continue
			}
			claimed[k], keys[e.ID] = true, k
		}
		if silenced || !set.Enabled(h.Kind.ID) || h.Below(set.Minimum) {
			marks[e.ID] = store.MarkSkipped
			continue
		}
		chosen = append(chosen, h)
	}
	opt := notifier.TextOptions{Money: s.opts.Money, HideAmounts: set.HideAmounts}
	// One running notification per kind of bad news, one per kind told
	// apart (payouts), then one for the rest of the good news; each tells
	// its happenings in order.
	var runs [][]*notifier.Happening // into chosen: a happening is large
	at := map[*notifier.Kind]int{}
	for j := range chosen {
		h := &chosen[j]
		k := h.Kind
		if !k.Bad && !k.Apart {
			k = nil // the good news share one run
		}
		i, ok := at[k]
		if !ok {
			i, at[k] = len(runs), len(runs)
			runs = append(runs, nil)
		}
		runs[i] = append(runs[i], h)
	}
	slices.SortStableFunc(runs, func(x, y []*notifier.Happening) int { // bad news first
		return cmp.Compare(b2i(!x[0].Kind.Bad), b2i(!y[0].Kind.Bad))
	})
	var out []desktop.Notification
	var runKeys []string
	for _, hs := range runs {
		// Only the newest is shown in full, so only it is read in full.
		newest := *hs[len(hs)-1]
		var d store.Facts
		newest, d = s.enrich(ctx, c, params, a, newest)
		s.keep(ctx, a, newest.Object, d)
		*hs[len(hs)-1] = newest
		bad := newest.Kind.Bad
		key := a.ID
		if bad || newest.Kind.Apart {
			key += "/" + newest.Kind.ID
		}
		b := s.burstFor(key, now)
		rings := false
		ids := make([]string, 0, len(hs))
		for _, h := range hs {
			b.Add(*h)
			marks[h.Event.ID] = store.MarkSummarised
			rings = rings || set.Rings(h.Kind.ID, h.Kind.Rings)
			ids = append(ids, h.Event.ID)
		}
		n := desktop.Notification{Icon: s.icon(a), Account: a.ID, Replaces: b.id, Sound: rings,
			Burst: true, URL: notifier.DashboardHome(src), Events: ids}
		t := b.Text(a.Name, opt)
		if bad {
			// Bad news is loud and stays until dismissed, one per kind.
			t = b.Problems(a.Name, now.Sub(b.started), opt)
			n.Icon, n.Urgent = s.opts.AlertIcon, true
		}
		if b.N == 1 {
			marks[newest.Event.ID] = store.MarkNotified
			t = newest.Text(opt)
			n.URL, n.Burst = newest.Link, false
		}
		if heldWhy != "" && !bad {
			t.Title = heldWhy + ": " + t.Title
		}
		n.Title, n.Body = t.Title, t.Body
		out = append(out, n)
		runKeys = append(runKeys, key)
	}
	if r, ok := s.opts.Sink.(readier); ok && len(out) > 0 {
		if err := r.Ready(ctx); err != nil {
			s.log.Debug("notification service not ready", "err", err)
		}
	}
	// The events no notification tells are marked at once; each
	// notification's own just before it is written to the bus. A crash
	// between two notifications of a poll leaves the later ones' events to
	// be told after the restart: once, never twice, none lost.
	rest := maps.Clone(marks)
	for _, n := range out {
		for _, id := range n.Events {
			delete(rest, id)
		}
	}
	if len(rest) > 0 {
		if err := s.store.MarkEvents(ctx, a.ID, rest, keys); err != nil {
			return err
		}
	}
	for i, n := range out {
		told := make(map[string]store.Mark, len(n.Events))
		for _, id := range n.Events {
			told[id] = marks[id]
		}
		if err := s.store.MarkEvents(ctx, a.ID, told, keys); err != nil {
			return err
		}
		id, err := s.opts.Sink.Notify(ctx, n)
		s.shown(err)
		s.burstShown(runKeys[i], id) // 0 starts a new run next time
	}
	return nil
}

// heldBack says why notifications wait at now: "While paused", "During
// quiet hours", or "" when they do not.
func heldBack(set store.Settings, now time.Time) string {
	switch {
	case set.Paused(now):
		return "While paused"
	case set.Quiet(now.Local()):
		return "During quiet hours"
	}
	return ""
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// shown logs a failure of the desktop's notifications once, not at every
// poll (a desktop without a notification service fails them all), and says
// when they work again. The events stay marked as told either way: the
// tray, Activity and `cashbell events` still show them.
func (s *Service) shown(err error) {
	switch {
	case err != nil && !s.sinkFailing.Swap(true):
		s.log.Warn("notifications cannot be shown; events are still stored and shown in Activity", "err", err)
	case err != nil:
		s.log.Debug("notification not shown", "err", err)
	case s.sinkFailing.Swap(false):
		s.log.Info("notifications are shown again")
	}
}

// keep stores what enrichment learnt about a happening's object.
func (s *Service) keep(ctx context.Context, a accounts.Account, object string, d store.Facts) {
	if d == (store.Facts{}) {
		return
	}
	if err := s.store.SaveFacts(ctx, a.ID, object, d); err != nil {
		s.log.Warn("details not kept", "account", a.ID, "err", err)
	}
}

// settlement reads the fee and net of a charge whose balance transaction
// came after the sale was told (charge.updated with a balance_transaction
// that was null), and keeps them with the charge.
func (s *Service) settlement(ctx context.Context, c *client.API, params stripe.Params, a accounts.Account, e store.Event) {
	charge, txn := notifier.Settlement(e)
	if txn == "" || slices.Contains(a.Missing, accounts.PermBalanceTransactionRead) {
		return
	}
	if d := s.settle(ctx, c, params, a, txn, store.Facts{}); d.NetCur != "" {
		s.keep(ctx, a, charge, d)
	}
}

func (s *Service) icon(a accounts.Account) string { return cmp.Or(a.Logo, s.opts.Icon) }
