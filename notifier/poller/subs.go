package poller

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
	"github.com/stripe/stripe-go/v76/form"

	"github.com/cashbell/cashbell/accounts"
	"github.com/cashbell/cashbell/notifier/store"
)

// listEvery is how old an account's listing of subscriptions may grow
// before MRR lists them again; between listings the events keep it.
const listEvery = 24 * time.Hour

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
		}
	}
	if len(subs) == 0 {
		return
	}
	if err := s.store.PutSubscriptions(ctx, account, subs, time.Time{}); err != nil {
		s.log.Warn("subscriptions not kept", "account", account, "err", err)
	}
}

// listSubscriptions lists an account's subscriptions, every status, when
// its listing is older than listEvery (or there is none) and the key may
// read them: the one read MRR makes, once a day at most.
func (s *Service) listSubscriptions(ctx context.Context, c *client.API, base stripe.Params, a accounts.Account) {
	if slices.Contains(a.Missing, accounts.PermSubscriptionRead) {
		return
	}
	_, listed, err := s.store.Subscriptions(ctx, a.ID)
	now := s.now()
	if err != nil || now.Sub(listed) < listEvery {
		return
	}
	var subs []store.Subscription
	values := &form.Values{}
	values.Add("status", "all")
	values.Add("limit", "100")
	for page := 0; page < 100; page++ { // at most 10,000 subscriptions a listing
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
		for _, raw := range list.Data {
			var head struct {
				ID string `json:"id"`
			}
			if json.Unmarshal(raw, &head) == nil && head.ID != "" {
				subs = append(subs, store.Subscription{ID: head.ID, AsOf: now.Unix(), JSON: raw})
				last = head.ID
			}
		}
		if !list.HasMore || last == "" {
			break
		}
		values.Set("starting_after", last)
	}
	if err := s.store.PutSubscriptions(ctx, a.ID, subs, now); err != nil {
		s.log.Warn("subscriptions not kept", "account", a.ID, "err", err)
	}
}
