package stripesim

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
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

// Sale describes a successful charge.
type Sale struct {
	Amount      int64
	Currency    string // lower case, as Stripe writes it
	Email       string // billing_details.email; also the customer's email
	Country     string
	Product     string // when set, the charge belongs to an invoice for this product
	Description string
	Fee         int64 // defaults to 2.9% + 30 minor units
	Guest       bool  // no customer object
}

// Sale records a succeeded charge and returns the event id and the charge id.
func (g *Generator) Sale(sale Sale) (eventID, chargeID string) {
	g.sim.mu.Lock()
	defer g.sim.mu.Unlock()
	ds := g.ds()
	ch := g.newCharge(ds, sale, "succeeded")
	return g.emit(ds, "charge.succeeded", ch, nil), ch["id"].(string)
}

// FailedCharge records a failed charge and returns the event id.
func (g *Generator) FailedCharge(sale Sale, message string) string {
	g.sim.mu.Lock()
	defer g.sim.mu.Unlock()
	ds := g.ds()
	ch := g.newCharge(ds, sale, "failed")
	ch["failure_code"] = "card_declined"
	ch["failure_message"] = message
	ch["paid"] = false
	ch["balance_transaction"] = nil
	ch["amount_captured"] = 0
	return g.emit(ds, "charge.failed", ch, nil)
}

// Refund refunds amount of a charge (all of it when amount is 0) and returns
// the event id.
func (g *Generator) Refund(chargeID string, amount int64) string {
	g.sim.mu.Lock()
	defer g.sim.mu.Unlock()
	ds := g.ds()
	ch := ds.objects[chargeID]
	prev := map[string]any{"amount_refunded": ch["amount_refunded"], "refunded": ch["refunded"]}
	total := ch["amount"].(int64)
	if amount == 0 {
		amount = total - ch["amount_refunded"].(int64)
	}
	ch["amount_refunded"] = ch["amount_refunded"].(int64) + amount
	ch["refunded"] = ch["amount_refunded"].(int64) >= total
	return g.emit(ds, "charge.refunded", ch, prev)
}

// Dispute opens a dispute on a charge and returns the event id.
func (g *Generator) Dispute(chargeID, reason string) string {
	g.sim.mu.Lock()
	defer g.sim.mu.Unlock()
	ds := g.ds()
	ch := ds.objects[chargeID]
	ch["disputed"] = true
	dp := g.put(ds, "dp_", map[string]any{
		"object": "dispute", "amount": ch["amount"], "currency": ch["currency"], "charge": chargeID,
		"reason": reason, "status": "needs_response", "is_charge_refundable": false,
		"evidence_details": map[string]any{"due_by": g.now().Add(7 * 24 * time.Hour).Unix(), "has_evidence": false},
	})
	return g.emit(ds, "charge.dispute.created", dp, nil)
}

// Payout records a payout that was paid or failed and returns the event id.
func (g *Generator) Payout(amount int64, currency string, failed bool) string {
	g.sim.mu.Lock()
	defer g.sim.mu.Unlock()
	ds := g.ds()
	po := g.put(ds, "po_", map[string]any{
		"object": "payout", "amount": amount, "currency": currency, "arrival_date": g.now().Unix(),
		"status": "paid", "failure_code": nil, "failure_message": nil, "method": "standard",
		"type": "bank_account", "automatic": true, "description": "STRIPE PAYOUT",
	})
	typ := "payout.paid"
	if failed {
		po["status"] = "failed"
		po["failure_code"] = "account_closed"
		po["failure_message"] = "The bank account has been closed."
		typ = "payout.failed"
	}
	return g.emit(ds, typ, po, nil)
}

// Plan describes the price of a subscription.
type Plan struct {
	Product  string // product name
	Amount   int64
	Currency string
	Interval string // "month" or "year"
}

// Subscribe creates a subscription for a new customer and returns the event id
// and the subscription id. A trial of zero means none.
func (g *Generator) Subscribe(email string, plan Plan, trial time.Duration) (eventID, subID string) {
	g.sim.mu.Lock()
	defer g.sim.mu.Unlock()
	ds := g.ds()
	cus := g.customer(ds, email, "US")
	status, trialEnd := "active", any(nil)
	if trial > 0 {
		status, trialEnd = "trialing", g.now().Add(trial).Unix()
	}
	sub := g.put(ds, "sub_", map[string]any{
		"object": "subscription", "customer": cus, "status": status, "cancel_at_period_end": false,
		"cancel_at": nil, "canceled_at": nil, "trial_end": trialEnd, "currency": plan.Currency,
		"current_period_start": g.now().Unix(), "current_period_end": g.now().Add(30 * 24 * time.Hour).Unix(),
		"items": listOf(g.subItem(ds, plan, 1)),
	})
	return g.emit(ds, "customer.subscription.created", sub, nil), sub["id"].(string)
}

// ChangePlan moves a subscription to another price.
func (g *Generator) ChangePlan(subID string, plan Plan) string {
	return g.updateSub(subID, func(ds *dataset, sub map[string]any) map[string]any {
		prev := map[string]any{"items": deepCopy(sub["items"])}
		qty := firstItem(sub)["quantity"].(int64)
		sub["items"] = listOf(g.subItem(ds, plan, qty))
		return prev
	})
}

// ChangeQuantity changes the number of seats of a subscription.
func (g *Generator) ChangeQuantity(subID string, quantity int64) string {
	return g.updateSub(subID, func(_ *dataset, sub map[string]any) map[string]any {
		prev := map[string]any{"items": deepCopy(sub["items"])}
		firstItem(sub)["quantity"] = quantity
		return prev
	})
}

// ScheduleCancel sets or clears cancel_at_period_end.
func (g *Generator) ScheduleCancel(subID string, cancel bool) string {
	return g.updateSub(subID, func(_ *dataset, sub map[string]any) map[string]any {
		prev := map[string]any{"cancel_at_period_end": sub["cancel_at_period_end"], "cancel_at": sub["cancel_at"]}
		sub["cancel_at_period_end"] = cancel
		sub["cancel_at"] = nil
		if cancel {
			sub["cancel_at"] = sub["current_period_end"]
		}
		return prev
	})
}

// SetStatus changes a subscription's status, e.g. to past_due.
func (g *Generator) SetStatus(subID, status string) string {
	return g.updateSub(subID, func(_ *dataset, sub map[string]any) map[string]any {
		prev := map[string]any{"status": sub["status"]}
		sub["status"] = status
		return prev
	})
}

// TouchMetadata makes an update that no customer would care about.
func (g *Generator) TouchMetadata(subID string) string {
	return g.updateSub(subID, func(_ *dataset, sub map[string]any) map[string]any {
		prev := map[string]any{"metadata": map[string]any{}}
		sub["metadata"] = map[string]any{"touched": "yes"}
		return prev
	})
}

// CancelSubscription ends a subscription now.
func (g *Generator) CancelSubscription(subID string) string {
	g.sim.mu.Lock()
	defer g.sim.mu.Unlock()
	ds := g.ds()
	sub := ds.objects[subID]
	sub["status"] = "canceled"
	sub["canceled_at"] = g.now().Unix()
	sub["ended_at"] = g.now().Unix()
	return g.emit(ds, "customer.subscription.deleted", sub, nil)
}

// TrialWillEnd announces the end of a subscription's trial.
func (g *Generator) TrialWillEnd(subID string) string {
	g.sim.mu.Lock()
	defer g.sim.mu.Unlock()
	ds := g.ds()
	return g.emit(ds, "customer.subscription.trial_will_end", ds.objects[subID], nil)
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

// RandomSale makes a plausible sale.
func (g *Generator) RandomSale() Sale {
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
		return g.Dispute(pick(charges), "fraudulent")
	case roll < 19:
		c := currencies[g.rng.IntN(len(currencies))]
		return g.Payout(c.amount(g.rng)*20, c.code, g.rng.IntN(5) == 0)
	case roll < 25:
		c := currencies[g.rng.IntN(3)]
		id, _ := g.Subscribe(g.RandomSale().Email, Plan{Product: products[g.rng.IntN(3)], Amount: c.amount(g.rng), Currency: c.code, Interval: "month"}, 0)
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

// EventIDs lists the ids of every event created in an account and mode, oldest first.
func (s *Sim) EventIDs(accountID string, live bool) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ds := s.mustAccount(accountID).data(live)
	ids := make([]string, len(ds.events))
	for i, e := range ds.events {
		ids[i] = e.id
	}
	return ids
}

func (g *Generator) ds() *dataset { return g.sim.accounts[g.account].data(g.live) }

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
	c := g.put(ds, "cus_", map[string]any{
		"object": "customer", "email": email, "name": strings.Split(email, "@")[0],
		"address": map[string]any{"country": country}, "currency": nil, "delinquent": false,
	})
	return c["id"].(string)
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
		recurring = map[string]any{"interval": plan.Interval, "interval_count": 1}
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

func (g *Generator) newCharge(ds *dataset, sale Sale, status string) map[string]any {
	var cus, invoice, txn any
	if !sale.Guest && sale.Email != "" {
		cus = g.customer(ds, sale.Email, sale.Country)
	}
	if sale.Product != "" {
		line := map[string]any{"id": "il_1" + randomToken(23), "object": "line_item", "amount": sale.Amount,
			"currency": sale.Currency, "description": "1 × " + sale.Product, "quantity": 1,
			"price": g.price(ds, Plan{Product: sale.Product, Amount: sale.Amount, Currency: sale.Currency})}
		invoice = g.put(ds, "in_", map[string]any{"object": "invoice", "customer": cus, "amount_paid": sale.Amount,
			"currency": sale.Currency, "status": "paid", "subscription": nil, "lines": listOf(line)})["id"]
	}
	if status == "succeeded" {
		fee := sale.Fee
		if fee == 0 {
			fee = sale.Amount*29/1000 + 30
		}
		txn = g.put(ds, "txn_", map[string]any{"object": "balance_transaction", "amount": sale.Amount,
			"currency": sale.Currency, "fee": fee, "net": sale.Amount - fee, "type": "charge", "status": "pending"})["id"]
	}
	email := any(nil)
	if sale.Email != "" {
		email = sale.Email
	}
	var country any
	if sale.Country != "" {
		country = sale.Country
	}
	desc := any(nil)
	if sale.Description != "" {
		desc = sale.Description
	}
	ch := g.put(ds, "ch_", map[string]any{
		"object": "charge", "amount": sale.Amount, "amount_captured": sale.Amount, "amount_refunded": int64(0),
		"currency": sale.Currency, "customer": cus, "invoice": invoice, "balance_transaction": txn,
		"billing_details": map[string]any{"email": email, "name": nil, "phone": nil,
			"address": map[string]any{"country": country, "city": nil, "line1": nil, "postal_code": nil}},
		"description": desc, "status": status, "paid": status == "succeeded", "refunded": false,
		"captured": true, "disputed": false, "failure_code": nil, "failure_message": nil,
		"payment_intent": "pi_1" + randomToken(23),
	})
	if txn != nil {
		ds.objects[txn.(string)]["source"] = ch["id"]
	}
	return ch
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
	data := map[string]any{"object": deepCopy(object)}
	if previous != nil {
		data["previous_attributes"] = deepCopy(previous)
	}
	e := &event{id: "evt_1" + randomToken(23), created: now.Unix(), seq: s.seq, typ: typ, visibleAt: s.now().Add(g.hidden)}
	var account any
	if a := s.accounts[ds.account]; a.Platform != "" {
		account = a.ID
	}
	e.body = map[string]any{
		"id": e.id, "object": "event", "api_version": APIVersion, "created": e.created, "type": typ,
		"livemode": ds.live, "pending_webhooks": 0, "data": data, "account": account,
		"request": map[string]any{"id": nil, "idempotency_key": nil},
	}
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
