package stripesim

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// Generator creates objects and the events that announce them in one account
// and mode, the way Stripe would as customers pay, refund, dispute and
// subscribe.
type Generator struct {
	sim     *Sim
	account string
	live    bool
	rng     *rand.Rand
	hidden  time.Duration
	at      time.Time
	overlap bool // EveryRefundEvent
	shop    bool // Shop
}

// Generator returns a generator for an account in live or test mode. The seed
// makes Random repeatable.
func (s *Sim) Generator(accountID string, live bool, seed uint64) *Generator {
	s.mu.Lock()
	s.mustAccount(accountID)
	s.mu.Unlock()
	return &Generator{sim: s, account: accountID, live: live, rng: rand.New(rand.NewPCG(seed, seed^0x5eed))}
}

// Hidden returns a generator whose events stay out of lists for d after they
// are created, like events that Stripe makes visible late.
func (g *Generator) Hidden(d time.Duration) *Generator {
	c := *g
	c.hidden = d
	return &c
}

// At returns a generator whose events are stamped with t instead of the clock.
func (g *Generator) At(t time.Time) *Generator {
	c := *g
	c.at = t
	return &c
}

// Raw emits an event of any type with a given object, for tests of types and
// fields that Cashbell does not know.
func (g *Generator) Raw(typ string, object, previous map[string]any) string {
	g.sim.mu.Lock()
	defer g.sim.mu.Unlock()
	return g.emit(g.ds(), typ, object, previous)
}

var (
	currencies = []struct {
		code   string
		amount func(*rand.Rand) int64
	}{
		{"usd", func(r *rand.Rand) int64 { return int64(500 + r.IntN(30000)) }},
		{"eur", func(r *rand.Rand) int64 { return int64(500 + r.IntN(20000)) }},
		{"gbp", func(r *rand.Rand) int64 { return int64(500 + r.IntN(15000)) }},
		{"jpy", func(r *rand.Rand) int64 { return int64(500 + r.IntN(50000)) }},
		{"kwd", func(r *rand.Rand) int64 { return int64(1000 + r.IntN(90000)) }},
	}
	products  = []string{"Pro plan", "Starter plan", "Team plan", "Lifetime licence", "E-book bundle"}
	names     = []string{"jane", "omar", "li.wei", "sofia", "ade", "marta", "kenji", "priya"}
	domains   = []string{"example.com", "mail.test", "acme.dev"}
	countries = []string{"US", "FR", "DE", "JP", "GB", "KW", "BR", "IN"}
)

// Shop returns a generator whose events look like one real shop's: its
// catalogue at fixed prices, mostly in dollars, some in euros and pounds,
// payouts in dollars. The demo uses it; the tests keep the full variety.
func (g *Generator) Shop() *Generator {
	c := *g
	c.shop = true
	return &c
}

// catalogue is the shop's products and their prices, in each currency's
// minor unit.
var catalogue = []struct {
	product string
	price   int64
}{{"Starter plan", 1900}, {"Pro plan", 4900}, {"Team plan", 9900}, {"E-book bundle", 2900}, {"Lifetime licence", 14900}}

// shopSale is a sale from the catalogue: dollars four times in five.
func (g *Generator) shopSale() Sale {
	item := catalogue[g.rng.IntN(len(catalogue))]
	s := Sale{Amount: item.price, Currency: "usd", Product: item.product, Country: "US",
		Email: fmt.Sprintf("%s@%s", names[g.rng.IntN(len(names))], domains[g.rng.IntN(len(domains))])}
	switch r := g.rng.IntN(10); {
	case r == 8:
		s.Currency, s.Country = "eur", []string{"DE", "FR"}[g.rng.IntN(2)]
	case r == 9:
		s.Currency, s.Country = "gbp", "GB"
	}
	return s
}

// RandomSale makes a plausible sale.
func (g *Generator) RandomSale() Sale {
	if g.shop {
		return g.shopSale()
	}
	c := currencies[g.rng.IntN(len(currencies))]
	s := Sale{
		Amount: c.amount(g.rng), Currency: c.code,
		Email:   fmt.Sprintf("%s@%s", names[g.rng.IntN(len(names))], domains[g.rng.IntN(len(domains))]),
		Country: countries[g.rng.IntN(len(countries))],
	}
	if g.rng.IntN(2) == 0 {
		s.Product = products[g.rng.IntN(len(products))]
	}
	return s
}

// Random creates one realistic event, most often a sale, and returns its id.
func (g *Generator) Random() string {
	roll := g.rng.IntN(100)
	g.sim.mu.Lock()
	ds := g.ds()
	var charges, subs []string
	for _, id := range ds.order {
		if strings.HasPrefix(id, "ch_") && ds.objects[id]["status"] == "succeeded" && ds.objects[id]["refunded"] == false {
			charges = append(charges, id)
		}
		if strings.HasPrefix(id, "sub_") && ds.objects[id]["status"] != "canceled" {
			subs = append(subs, id)
		}
	}
	g.sim.mu.Unlock()
	pick := func(ids []string) string { return ids[g.rng.IntN(len(ids))] }
	switch {
	case roll < 8 && len(charges) > 0:
		return g.Refund(pick(charges), 0)
	case roll < 13:
		return g.FailedCharge(g.RandomSale(), "Your card was declined.")
	case roll < 15 && len(charges) > 0:
		id, _ := g.Dispute(pick(charges), "fraudulent")
		return id
	case roll < 19 && g.shop:
		return g.Payout(int64(20000+g.rng.IntN(200000)), "usd", g.rng.IntN(20) == 0)
	case roll < 19:
		c := currencies[g.rng.IntN(len(currencies))]
		return g.Payout(c.amount(g.rng)*20, c.code, g.rng.IntN(5) == 0)
	case roll < 25:
		c := currencies[g.rng.IntN(3)]
		plan := Plan{Product: products[g.rng.IntN(3)], Amount: c.amount(g.rng), Currency: c.code, Interval: "month"}
		if g.shop {
			item := catalogue[g.rng.IntN(3)]
			plan = Plan{Product: item.product, Amount: item.price, Currency: "usd", Interval: "month"}
		}
		id, _ := g.Subscribe(g.RandomSale().Email, plan, 0)
		return id
	case roll < 29 && len(subs) > 0:
		sub := pick(subs)
		switch g.rng.IntN(3) {
		case 0:
			return g.ChangeQuantity(sub, int64(2+g.rng.IntN(5)))
		case 1:
			return g.ScheduleCancel(sub, true)
		default:
			return g.CancelSubscription(sub)
		}
	default:
		id, _ := g.Sale(g.RandomSale())
		return id
	}
}

// Run creates a random event every interval until ctx ends. It is what keeps
// the demo account lively.
func (g *Generator) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			g.Random()
		}
	}
}

// EventIDs lists the ids of every event created in an account and mode,
// oldest first; with types, only the events of those types (what a listing
// with types[] returns).
func (s *Sim) EventIDs(accountID string, live bool, types ...string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ds := s.mustAccount(accountID).data(live)
	ids := make([]string, 0, len(ds.events))
	for _, e := range ds.events {
		if len(types) == 0 || slices.Contains(types, e.typ) {
			ids = append(ids, e.id)
		}
	}
	return ids
}

func (g *Generator) ds() *dataset { return g.sim.accounts[g.account].data(g.live) }

// version is the account's API version. The caller holds the lock.
func (g *Generator) version() string { return g.sim.accounts[g.account].Version }

func (g *Generator) now() time.Time {
	if !g.at.IsZero() {
		return g.at
	}
	return g.sim.now()
}

func (g *Generator) put(ds *dataset, prefix string, obj map[string]any) map[string]any {
	id := prefix + "1" + randomToken(23)
	obj["id"] = id
	obj["livemode"] = ds.live
	obj["created"] = g.now().Unix()
	if _, ok := obj["metadata"]; !ok {
		obj["metadata"] = map[string]any{}
	}
	ds.objects[id] = obj
	ds.order = append(ds.order, id)
	return obj
}

func (g *Generator) customer(ds *dataset, email, country string) string {
	return g.customerOf(ds, email, "", country)
}

// customerOf creates a customer. With a business name it is a customer
// kept as an Accounts v2 account: Stripe returns "both customer and
// customer_account properties" for it (docs.stripe.com/connect/
// use-accounts-as-customers; customer_account from 2025-12-15.clover,
// changelog clover accounts-v2-v1-api-support), and its name is in
// business_name (Customer.business_name, 2025-09-30.clover, stripe-go
// 83.0.0), with no email. New fields come at every version (docs.stripe.com/
// upgrades), so every version renders them.
func (g *Generator) customerOf(ds *dataset, email, business, country string) string {
	var mail, name, biz, account any
	if email != "" {
		mail, name = email, strings.Split(email, "@")[0]
	}
	if business != "" {
		biz, account = business, "acct_1"+randomToken(15)
	}
	c := g.put(ds, "cus_", map[string]any{
		"object": "customer", "email": mail, "name": name, "business_name": biz, "individual_name": nil,
		"customer_account": account, "address": map[string]any{"country": country}, "currency": nil, "delinquent": false,
	})
	return c["id"].(string)
}

// customerAccount is the customer_account of a customer id, or nil.
func customerAccount(ds *dataset, cus any) any {
	if id, ok := cus.(string); ok && ds.objects[id] != nil {
		return ds.objects[id]["customer_account"]
	}
	return nil
}

func (g *Generator) product(ds *dataset, name string) string {
	for _, id := range ds.order {
		if strings.HasPrefix(id, "prod_") && ds.objects[id]["name"] == name {
			return id
		}
	}
	return g.put(ds, "prod_", map[string]any{"object": "product", "name": name, "active": true, "description": nil})["id"].(string)
}

func (g *Generator) price(ds *dataset, plan Plan) map[string]any {
	var recurring any
	if plan.Interval != "" {
		usage := "licensed"
		if plan.Metered {
			usage = "metered"
		}
		recurring = map[string]any{"interval": plan.Interval, "interval_count": max(plan.Every, 1), "usage_type": usage}
	}
	p := g.put(ds, "price_", map[string]any{
		"object": "price", "product": g.product(ds, plan.Product), "nickname": nil,
		"unit_amount": plan.Amount, "currency": plan.Currency, "recurring": recurring, "active": true,
	})
	return maps.Clone(p)
}

func (g *Generator) subItem(ds *dataset, plan Plan, qty int64) map[string]any {
	return map[string]any{"id": "si_1" + randomToken(23), "object": "subscription_item", "quantity": qty, "price": g.price(ds, plan)}
}

func (g *Generator) updateSub(subID string, change func(*dataset, map[string]any) map[string]any) string {
	g.sim.mu.Lock()
	defer g.sim.mu.Unlock()
	ds := g.ds()
	sub, ok := ds.objects[subID]
	if !ok {
		panic("stripesim: unknown subscription " + subID)
	}
	prev := change(ds, sub)
	return g.emit(ds, "customer.subscription.updated", sub, prev)
}

// emit snapshots object into a new event. The caller holds the lock.
func (g *Generator) emit(ds *dataset, typ string, object, previous map[string]any) string {
	s := g.sim
	s.seq++
	now := g.now()
	// An event's object is rendered at the account's version when the event
	// happens, and never changes after (Event.api_version: "The Stripe API
	// version used to render data when the event was created").
	version := g.version()
	data := map[string]any{"object": ds.discounts(version, render(version, object), nil)}
	if previous != nil {
		data["previous_attributes"] = render(version, previous)
	}
	e := &event{id: "evt_1" + randomToken(23), created: now.Unix(), seq: s.seq, typ: typ, visibleAt: s.now().Add(g.hidden)}
	var account any
	if a := s.accounts[ds.account]; a.Platform != "" {
		account = a.ID
	}
	body, err := json.Marshal(map[string]any{
		"id": e.id, "object": "event", "api_version": version, "created": e.created, "type": typ,
		"livemode": ds.live, "pending_webhooks": 0, "data": data, "account": account,
		"request": map[string]any{"id": nil, "idempotency_key": nil},
	})
	if err != nil {
		panic("stripesim: an event that cannot be encoded: " + err.Error())
	}
	e.body = body
	ds.events = append(ds.events, e)
	return e.id
}

func listOf(items ...map[string]any) map[string]any {
	data := make([]any, len(items))
	for i, it := range items {
		data[i] = it
	}
	return map[string]any{"object": "list", "data": data, "has_more": false, "total_count": len(items)}
}

func firstItem(sub map[string]any) map[string]any {
	return sub["items"].(map[string]any)["data"].([]any)[0].(map[string]any)
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = deepCopy(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = deepCopy(x)
		}
		return out
	}
	return v
}

// Past makes the days before now: 2 to 7 dollar sales on each, more on
// weekdays, and refunds one in twelve; and, for MRR, a score of
// subscriptions from before the days, a new one every few days, some
// upgrades and a cancellation or two. The demo and the screenshots' account
// open on a month that looks lived in.
func (g *Generator) Past(days int, now time.Time) {
	rng := rand.New(rand.NewPCG(uint64(days), 42))
	if days == 0 {
		return
	}
	plans := []Plan{
		{Product: "Starter plan", Amount: 2900, Currency: "usd", Interval: "month"},
		{Product: "Pro plan", Amount: 7900, Currency: "usd", Interval: "month"},
		{Product: "Team plan", Amount: 29000, Currency: "usd", Interval: "year"},
	}
	var subs []string
	for i := range 20 {
		_, sub := g.At(now.AddDate(0, 0, -days-30+i)).Subscribe(fmt.Sprintf("early%d@example.com", i), plans[i%3], 0)
		subs = append(subs, sub)
	}
	for day := days; day >= 1; day-- {
		at := now.AddDate(0, 0, -day).Add(-time.Duration(rng.IntN(6)) * time.Hour)
		switch rng.IntN(7) {
		case 0, 1, 2:
			_, sub := g.At(at).Subscribe(fmt.Sprintf("new%d@example.com", day), plans[rng.IntN(3)], 0)
			subs = append(subs, sub)
		case 3:
			g.At(at).ChangePlan(subs[rng.IntN(len(subs))], plans[1])
		case 4:
			if day%3 == 0 {
				g.At(at).CancelSubscription(subs[rng.IntN(len(subs))])
			}
		}
	}
	for day := days; day >= 1; day-- {
		date := now.AddDate(0, 0, -day)
		sales := 2 + rng.IntN(4)
		if wd := date.Weekday(); wd != time.Saturday && wd != time.Sunday {
			sales += 2
		}
		for range sales {
			at := time.Date(date.Year(), date.Month(), date.Day(), 8+rng.IntN(12), rng.IntN(60), 0, 0, date.Location())
			amount := int64(1900 + 1000*rng.IntN(12))
			_, charge := g.At(at).Sale(Sale{Amount: amount, Currency: "usd", Email: "buyer@example.com", Country: "US"})
			if rng.IntN(12) == 0 {
				g.At(at.Add(time.Hour)).Refund(charge, amount)
			}
		}
	}
}
