package notifier

import (
	"context"
	"slices"
	"strings"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"github.com/cashbell/cashbell/accounts"
)

// Sink shows notifications on the desktop.
type Sink interface {
	Notify(ctx context.Context, n Notification) error
}

// Notification is one desktop notification.
type Notification struct {
	Title   string
	Body    string
	Icon    string // path of a PNG
	Account string
	EventID string // empty for summaries and notices
	URL     string // Dashboard page
	Urgent  bool
}

// deliver notifies an account's waiting events: the first few on their own and
// the rest in one summary. Each event is decoded once, and marked in the store
// before anything is shown, so none is ever shown twice.
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
	silenced := set.Paused(now) || set.Quiet(now.Local()) || a.Muted
	src := Source{Name: a.Name, Live: a.Live(), Connected: a.ConnectedID()}
	marks := make(map[string]Mark, len(pending))
	var chosen []Happening
	for _, e := range pending {
		if slices.Contains(settlements, e.Type) {
			s.settlement(ctx, c, params, a, e)
			marks[e.ID] = MarkSilent
			continue
		}
		h := Decode(e, src)
		if silenced || !set.Enabled(h.Kind) || !h.Notifies() {
			marks[e.ID] = MarkSkipped
			continue
		}
		if h.pending() { // its amount is not in the event: learn it before judging
			var d Details
			h, d = s.enrich(ctx, c, params, a, h)
			s.keep(ctx, a, h, d)
		}
		if belowMinimum(h, set.MinAmount) {
			marks[e.ID] = MarkSkipped
			continue
		}
		chosen = append(chosen, h)
	}
	individual, rest := chosen, []Happening(nil)
	if len(chosen) > MaxIndividual {
		individual, rest = chosen[:MaxIndividual], chosen[MaxIndividual:]
	}
	opt := TextOptions{Money: s.opts.Money, HideAmounts: set.HideAmounts}
	var out []Notification
	for _, h := range individual {
		marks[h.Event.ID] = MarkNotified
		var d Details
		h, d = s.enrich(ctx, c, params, a, h)
		s.keep(ctx, a, h, d)
		t := h.Text(opt)
		out = append(out, Notification{Title: t.Title, Body: t.Body, Icon: s.icon(a), Account: a.ID, EventID: h.Event.ID,
			URL: h.Link, Urgent: h.Kind.Bad})
	}
	if len(rest) > 0 {
		for _, h := range rest {
			marks[h.Event.ID] = MarkSummarised
		}
		t := Summary(a.Name, rest, opt)
		out = append(out, Notification{Title: t.Title, Body: t.Body, Icon: s.icon(a), Account: a.ID})
	}
	if err := s.store.MarkEvents(ctx, a.ID, marks); err != nil {
		return err
	}
	for _, n := range out {
		if err := s.opts.Sink.Notify(ctx, n); err != nil {
			s.log.Warn("notification not shown", "account", a.ID, "err", err)
		}
	}
	return nil
}

// keep stores what enrichment learnt about a happening's object.
func (s *Service) keep(ctx context.Context, a accounts.Account, h Happening, d Details) {
	if d == (Details{}) {
		return
	}
	if err := s.store.SaveDetails(ctx, a.ID, h.Object, d); err != nil {
		s.log.Warn("details not kept", "account", a.ID, "err", err)
	}
}

// settlement reads the fee and net of a charge whose balance transaction
// came after the sale was told (charge.updated with a balance_transaction
// that was null), and keeps them with the charge.
func (s *Service) settlement(ctx context.Context, c *client.API, params stripe.Params, a accounts.Account, e Event) {
	o, prev := parseObj(e.Object), parseObj(e.Previous)
	txn := o.id("balance_transaction")
	if txn == "" || !prev.has("balance_transaction") || prev.id("balance_transaction") != "" || slices.Contains(a.Missing, accounts.PermBalanceRead) {
		return
	}
	if d := s.settle(ctx, c, params, a, txn, Details{}); d.NetCur != "" {
		s.keep(ctx, a, Happening{Object: o.str("id")}, d)
	}
}

func (s *Service) icon(a accounts.Account) string {
	if a.Logo != "" {
		return a.Logo
	}
	return s.opts.Icon
}

// belowMinimum compares in minor units: min is in major units of each currency.
func belowMinimum(h Happening, minMajor int64) bool {
	if minMajor <= 0 || !h.HasAmount() {
		return false
	}
	limit := minMajor
	for range stripeDigits(strings.ToUpper(h.Currency)) {
		limit *= 10
	}
	return h.Amount < limit
}
