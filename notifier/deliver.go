package notifier

import (
	"context"
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
		h := Decode(e, src)
		if silenced || !set.Enabled(h.Kind) || !h.Notifies() || belowMinimum(h, set.MinAmount) {
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
		h = s.enrich(ctx, c, params, a, h)
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
