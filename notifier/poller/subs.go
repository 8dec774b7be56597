package poller

import (
	"context"
	"encoding/json"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
	"github.com/stripe/stripe-go/v76/form"

	"github.com/cashbell/cashbell/accounts"
	"github.com/cashbell/cashbell/notifier"
	"github.com/cashbell/cashbell/notifier/store"
)

// listEvery is how old an account's listing of subscriptions may grow
// before MRR lists them again; between listings the events keep it.
const listEvery = 24 * time.Hour

// subscriptionPages caps a listing: 100,000 subscriptions.
var subscriptionPages = 1000

// keepSubscriptions keeps the newest state of each subscription that
// stored events tell of (customer.subscription.*), for MRR.
func (s *Service) keepSubscriptions(ctx context.Context, account string, events []store.Event) {
	var subs []store.Subscription
	for _, e := range events {
		if !strings.HasPrefix(e.Type, "customer.subscription.") {
			continue
		}
		var head struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(e.Object, &head) == nil && head.ID != "" {
			subs = append(subs, store.Subscription{ID: head.ID, AsOf: e.Created, JSON: e.Object})
			s.noteDiscounts(account, head.ID, e.Object)
		}
	}
	if len(subs) == 0 {
		return
	}
	if err := s.store.PutSubscriptions(ctx, account, subs, time.Time{}); err != nil {
		s.log.Warn("subscriptions not kept", "account", account, "err", err)
	}
}

// noteDiscounts notes the discounts a subscription's event names by id,
// for learnDiscounts.
func (s *Service) noteDiscounts(account, sub string, object []byte) {
	var named struct {
		Discounts []json.RawMessage `json:"discounts"`
	}
	_ = json.Unmarshal(object, &named)
	var ids []string
	for _, d := range named.Discounts {
		var id string
		if json.Unmarshal(d, &id) == nil && id != "" {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.discounted[account] == nil {
		s.discounted[account] = map[string][]string{}
	}
	s.discounted[account][sub] = ids
}

// listSubscriptions lists an account's subscriptions, every status, when
// its listing is older than listEvery (or there is none) and the key may
// read them: the one read MRR makes, once a day at most.
func (s *Service) listSubscriptions(ctx context.Context, c *client.API, base stripe.Params, a accounts.Account) {
	if slices.Contains(a.Missing, accounts.PermSubscriptionRead) {
		return
	}
	listed, err := s.store.SubscriptionsListed(ctx, a.ID)
	now := s.now()
	s.mu.Lock()
	tried := listed
	if capped := s.capped[a.ID]; capped.After(tried) {
		tried = capped
	}
	s.mu.Unlock()
	if err != nil || now.Sub(tried) < listEvery {
		return
	}
	var subs []store.Subscription
	discounts := notifier.Discounts{}
	values := &form.Values{}
	values.Add("status", "all")
	values.Add("limit", "100")
	// Discounts whole, for the forever coupons MRR takes off: 2023-10-16,
	// which stripe-go asks for, gives only the first in discount.
	values.Add("expand[]", "data.discounts")
	whole := false
	for pageNo := 0; pageNo < subscriptionPages; pageNo++ {
		p := base
		p.Context = ctx
		var list struct {
			stripe.APIResource
			stripe.ListMeta
			Data []json.RawMessage `json:"data"`
		}
		if err := c.Subscriptions.B.CallRaw("GET", "/v1/subscriptions", c.Subscriptions.Key, values, &p, &list); err != nil {
			s.log.Debug("subscriptions not listed", "account", a.ID, "err", accounts.Classify(err))
			return
		}
		var last string
		var page []store.Subscription
		for _, raw := range list.Data {
			var head struct {
				ID string `json:"id"`
			}
			if json.Unmarshal(raw, &head) == nil && head.ID != "" {
				page = append(page, store.Subscription{ID: head.ID, AsOf: now.Unix(), JSON: raw})
				last = head.ID
				maps.Copy(discounts, notifier.DiscountsOf(raw))
			}
		}
		subs = append(subs, page...)
		if listed.IsZero() && list.HasMore {
			// A large account's first listing shows its progress: the
			// tray counts what is kept so far.
			if err := s.store.PutSubscriptions(ctx, a.ID, page, time.Time{}); err == nil && pageNo%5 == 0 {
				s.changed(a.ID)
			}
		}
		if !list.HasMore || last == "" {
			whole = true
			break
		}
		values.Set("starting_after", last)
	}
	s.mu.Lock()
	delete(s.capped, a.ID)
	if !whole {
		// Past the cap the listing is not whole: what was read is kept,
		// nothing is dropped, MRR stays unknown (the tray counts), and the
		// next try waits as long as a listing would.
		s.capped[a.ID] = now
		now = time.Time{}
	}
	s.mu.Unlock()
	if err := s.store.PutDiscounts(ctx, a.ID, discounts); err != nil {
		s.log.Warn("discounts not kept", "account", a.ID, "err", err)
	}
	if err := s.store.PutSubscriptions(ctx, a.ID, subs, now); err != nil {
		s.log.Warn("subscriptions not kept", "account", a.ID, "err", err)
		return
	}
	s.changed(a.ID) // the tray's MRR
}

// learnDiscounts reads whole the discounts that stored subscription events
// named by id alone (from 2025-03-31.basil an event does not expand them),
// one subscription at a time, so that MRR knows their coupons. It reads
// nothing while no such event came.
func (s *Service) learnDiscounts(ctx context.Context, c *client.API, base stripe.Params, a accounts.Account) {
	s.mu.Lock()
	named := s.discounted[a.ID]
	delete(s.discounted, a.ID)
	s.mu.Unlock()
	failed := map[string][]string{}
	defer func() { // what could not be read is tried again at the next poll
		if len(failed) > 0 {
			s.mu.Lock()
			if s.discounted[a.ID] == nil {
				s.discounted[a.ID] = map[string][]string{}
			}
			maps.Copy(s.discounted[a.ID], failed)
			s.mu.Unlock()
		}
	}()
	if len(named) == 0 || slices.Contains(a.Missing, accounts.PermSubscriptionRead) {
		return
	}
	known, err := s.store.Discounts(ctx, a.ID)
	if err != nil {
		return
	}
	learnt := notifier.Discounts{}
	for sub, ids := range named {
		if !slices.ContainsFunc(ids, func(id string) bool { return known[id] == nil && learnt[id] == nil }) {
			continue
		}
		p := base
		p.Context = ctx
		var raw json.RawMessage
		values := &form.Values{}
		values.Add("expand[]", "discounts")
		if err := c.Subscriptions.B.CallRaw("GET", "/v1/subscriptions/"+url.PathEscape(sub), c.Subscriptions.Key, values, &p, &rawResource{raw: &raw}); err != nil {
			s.log.Debug("discounts not read", "account", a.ID, "err", accounts.Classify(err))
			failed[sub] = ids
			continue
		}
		maps.Copy(learnt, notifier.DiscountsOf(raw))
	}
	if err := s.store.PutDiscounts(ctx, a.ID, learnt); err != nil {
		s.log.Warn("discounts not kept", "account", a.ID, "err", err)
	}
}

// rawResource keeps an answer's JSON as it came.
type rawResource struct {
	stripe.APIResource
	raw *json.RawMessage
}

func (r *rawResource) UnmarshalJSON(b []byte) error {
	*r.raw = append(json.RawMessage(nil), b...)
	return nil
}
