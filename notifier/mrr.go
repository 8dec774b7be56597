package notifier

import (
	"context"
	"encoding/json"
	"maps"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/cashbell/cashbell/notifier/store"
)

// Monthly recurring revenue as Stripe's Billing analytics count it
// (docs.stripe.com/billing/subscriptions/analytics/glossary, "Billing metric
// definitions", and the support articles cited below):
//
//   - "MRR is the sum of the monthly-normalized value of all your active
//     and past_due subscriptions. MRR calculations exclude subscriptions in
//     trial periods, any taxes applied to the subscription, any subscribers
//     on free plans, and any metered (usage based) products." A price's
//     unit_amount is before tax, so tax never enters.
//   - A year is a twelfth a month: "an annual subscription for $1,200 only
//     counts $100 towards your MRR" (support.stripe.com/questions/
//     billing-analytics). Stripe does not say how weeks and days count;
//     Cashbell counts a week as 52/12 of a month and a day as 365/12, divides
//     by interval_count and multiplies by each item's quantity, over every
//     item.
//   - "If you apply a coupon with a forever duration, the discount will
//     apply to your MRR. If you apply a coupon with a finite duration (i.e.
//     once or repeating) to a subscription, your MRR is unaffected" (the same
//     article): the default Cashbell keeps. A discount read only as an id
//     (an event does not expand it) is not known, and not taken off.
//   - A subscription set to cancel at the period's end "will no longer count
//     towards your MRR after the time of the API call" (support.stripe.com/
//     questions/impact-of-subscription-cancellations-on-monthly-recurring-
//     revenue-mrr-in-billing).
//   - One figure per currency: Cashbell converts nothing.
//
// Amounts are kept exact (big.Rat) until they are shown.

// Discounts are discounts kept whole, by id (store.Store.Discounts): from
// 2025-03-31.basil an event names a subscription's discounts by id alone.
type Discounts map[string][]byte

// DiscountsOf are the discounts a subscription carries whole: discount
// (until 2024-06-20) and discounts where expanded.
func DiscountsOf(raw []byte) Discounts {
	out := Discounts{}
	s := parseObj(raw)
	list := s.list("discounts")
	if d := s.sub("discount"); d != nil {
		list = append(list, d)
	}
	for _, d := range list {
		if id := d.str("id"); id != "" {
			out[id], _ = json.Marshal(d)
		}
	}
	return out
}

// SubscriptionMRR is a subscription's monthly recurring revenue, by
// currency, in minor units; empty when it does not count. known are the
// discounts known whole, for those the subscription names by id.
func SubscriptionMRR(raw []byte, known Discounts) map[string]*big.Rat {
	return subscriptionMRR(parseObj(raw), known)
}

func subscriptionMRR(s obj, known Discounts) map[string]*big.Rat {
	out := map[string]*big.Rat{}
	cancel, _ := s.boolean("cancel_at_period_end")
	if status := s.str("status"); status != "active" && status != "past_due" || cancel {
		return out
	}
	items, _ := s.get("items", "data").([]any)
	firstInterval, firstCount := "", int64(1)
	for _, it := range items {
		item, _ := it.(map[string]any)
		price := obj(item).sub("price")
		if price == nil {
			price = obj(item).sub("plan")
		}
		if price.str("recurring", "usage_type") == "metered" || price.str("usage_type") == "metered" {
			continue
		}
		amount := unitAmount(price)
		if amount == nil || amount.Sign() <= 0 {
			continue // free, or tiered (its amount depends on tiers Cashbell does not read)
		}
		interval := price.str("recurring", "interval")
		count, _ := price.num("recurring", "interval_count")
		if interval == "" {
			interval = price.str("interval")
			count, _ = price.num("interval_count")
		}
		if firstInterval == "" {
			firstInterval, firstCount = interval, max(count, 1)
		}
		quantity, ok := obj(item).num("quantity")
		if !ok {
			quantity = 1
		}
		monthly := perMonth(amount.Mul(amount, big.NewRat(quantity, 1)), interval, max(count, 1))
		if monthly == nil {
			continue
		}
		cur := strings.ToLower(price.str("currency"))
		if out[cur] == nil {
			out[cur] = new(big.Rat)
		}
		out[cur].Add(out[cur], monthly)
	}
	for cur, v := range out {
		forever(discountsOf(s, known), cur, v, firstInterval, firstCount)
		if v.Sign() <= 0 {
			delete(out, cur)
		}
	}
	return out
}

// unitAmount is a price's amount per unit in minor units: unit_amount, a
// plan's amount, or unit_amount_decimal ("Same as unit_amount, but
// contains a decimal value with at most 12 decimal places", Price,
// stripe-go); nil when it has none.
func unitAmount(price obj) *big.Rat {
	if n, ok := price.num("unit_amount"); ok {
		return big.NewRat(n, 1)
	}
	if n, ok := price.num("amount"); ok { // a plan
		return big.NewRat(n, 1)
	}
	if d, ok := new(big.Rat).SetString(price.str("unit_amount_decimal")); ok {
		return d
	}
	return nil
}

// perMonth is an amount per count intervals, as a month's share.
func perMonth(amount *big.Rat, interval string, count int64) *big.Rat {
	months := map[string]*big.Rat{
		"day": big.NewRat(12, 365), "week": big.NewRat(12, 52), "month": big.NewRat(1, 1), "year": big.NewRat(12, 1),
	}[interval]
	if months == nil {
		return nil
	}
	// amount every count intervals, each interval `months` months long.
	per := new(big.Rat).Mul(months, big.NewRat(count, 1))
	return new(big.Rat).Quo(amount, per)
}

// forever takes the forever coupons' discounts off v, a currency's MRR:
// a percentage off, or an amount off each invoice (every count intervals)
// in that currency.
func forever(discounts []obj, cur string, v *big.Rat, interval string, count int64) {
	for _, d := range discounts {
		c := d.sub("coupon")
		if c == nil {
			c = d.sub("source", "coupon") // 2025-09-30.clover, expanded
		}
		if c == nil || c.str("duration") != "forever" {
			continue
		}
		if pct, ok := c.get("percent_off").(float64); ok && pct > 0 {
			// percent_off may have a fraction (12.5): kept exact.
			left := new(big.Rat).Sub(big.NewRat(1, 1), new(big.Rat).Quo(new(big.Rat).SetFloat64(pct), big.NewRat(100, 1)))
			v.Mul(v, left)
		} else if off, ok := c.num("amount_off"); ok && strings.EqualFold(c.str("currency"), cur) {
			// An amount off each invoice: a month's share of it.
			if monthly := perMonth(big.NewRat(off, 1), interval, count); monthly != nil {
				v.Sub(v, monthly)
			}
		}
	}
}

// discountsOf are a subscription's discounts, each once: whole, or by id
// where known whole.
func discountsOf(s obj, known Discounts) []obj {
	var out []obj
	seen := map[string]bool{}
	add := func(d obj) {
		if id := d.str("id"); id == "" || !seen[id] {
			seen[id] = true
			out = append(out, d)
		}
	}
	if d := s.sub("discount"); d != nil {
		add(d)
	}
	list, _ := s.get("discounts").([]any)
	for _, it := range list {
		switch d := it.(type) {
		case map[string]any:
			add(obj(d))
		case string:
			if raw, ok := known[d]; ok && !seen[d] {
				add(parseObj(raw))
			}
		}
	}
	return out
}

// Recurring is an account's MRR and active subscribers, from the
// subscriptions the store keeps.
type Recurring struct {
	MRR         map[string]int64 // by currency, in minor units, rounded
	Subscribers int
	Known       bool // the subscriptions were listed at least once
	// Kept is how many subscriptions are kept: while the first listing
	// runs, how far it got.
	Kept int
}

// Leading is the currency with the most MRR, and how many others there are.
func (r Recurring) Leading() (currency string, others int) {
	for cur, v := range r.MRR {
		if currency == "" || v > r.MRR[currency] || v == r.MRR[currency] && cur < currency {
			currency = cur
		}
	}
	return currency, max(len(r.MRR)-1, 0)
}

// Recurring sums an account's MRR and counts its subscribers.
func (h History) Recurring(ctx context.Context, account string) (Recurring, error) {
	r, _, _, err := h.kept(ctx, account)
	return r, err
}

// kept reads an account's kept subscriptions once: its Recurring, each
// customer's MRR today, and the discounts known whole (the last two nil
// until a whole listing).
func (h History) kept(ctx context.Context, account string) (Recurring, map[string]map[string]*big.Rat, Discounts, error) {
	subs, listed, err := h.Store.Subscriptions(ctx, account)
	if err != nil || listed.IsZero() {
		// Until a whole listing, what events told is part of the figure:
		// no number rather than a wrong one.
		return Recurring{Kept: len(subs)}, nil, nil, err
	}
	known, err := h.Store.Discounts(ctx, account)
	if err != nil {
		return Recurring{}, nil, nil, err
	}
	r, byCustomer := recurring(subs, known)
	return r, byCustomer, known, nil
}

// recurring sums subscriptions' MRR, by customer and in all, and counts
// the customers with at least one subscription that counts towards it,
// each once ("If any of the customer's subscriptions are paid
// subscriptions in an active or past_due state, the customer is an active
// subscriber", the glossary).
func recurring(subs [][]byte, known Discounts) (Recurring, map[string]map[string]*big.Rat) {
	byCustomer, total := map[string]map[string]*big.Rat{}, map[string]map[string]*big.Rat{}
	for _, raw := range subs {
		s := parseObj(raw)
		if mrr := subscriptionMRR(s, known); len(mrr) > 0 {
			addMRR(byCustomer, customerOf(s), mrr, 1)
			addMRR(total, "all", mrr, 1)
		}
	}
	r := Recurring{MRR: map[string]int64{}, Subscribers: len(byCustomer), Known: true, Kept: len(subs)}
	for cur, v := range total["all"] {
		r.MRR[cur] = minorUnits(v)
	}
	return r, byCustomer
}

// Movement is how MRR moved over a span, in one currency, in minor units:
// "New + Reactivation + Expansion − Churned − Contraction" is its growth
// (the glossary's "MRR growth"). All are positive amounts.
type Movement struct {
	New, Expansion, Contraction, Churn, Reactivation int64
}

// Net is the movement's growth.
func (m Movement) Net() int64 { return m.New + m.Reactivation + m.Expansion - m.Churn - m.Contraction }

// MovementPart is one of a movement's parts, signed: what it added to MRR,
// or took away.
type MovementPart struct {
	Label  string
	Signed int64
}

// Parts are the movement's parts that moved, in the glossary's order.
func (m Movement) Parts() []MovementPart {
	var out []MovementPart
	for _, p := range []MovementPart{{"new", m.New}, {"expansion", m.Expansion}, {"reactivation", m.Reactivation},
		{"contraction", -m.Contraction}, {"churn", -m.Churn}} {
		if p.Signed != 0 {
			out = append(out, p)
		}
	}
	return out
}

// Movements are an account's MRR movements by currency since from, from
// the subscription events the store keeps, oldest first. Each event moves
// a subscription from its MRR before (the event's previous attributes over
// its object; nothing for a new one; for one ended at once, what it
// counted while active) to its MRR after. A customer whose MRR went to
// nothing earlier in the span and comes back is a reactivation, not new.
func (h History) Movements(ctx context.Context, account string, from time.Time) (map[string]*Movement, error) {
	moved, _, err := h.movements(ctx, []string{account}, from, time.Time{}, nil)
	return moved, err
}

// MRRMonth is an account's MRR over n days: its value at the end of each
// day, by currency, and how it moved; and its MRR today.
type MRRMonth struct {
	Days      map[string][]int64
	Moved     map[string]*Movement
	Recurring Recurring
}

// MRRMonth works out an account's MRR at the end of each of the n days that
// end today: today's MRR, less what moved after each day.
func (h History) MRRMonth(ctx context.Context, account string, today time.Time, n int) (MRRMonth, error) {
	y, m, d := today.Date()
	start := time.Date(y, m, d-n+1, 0, 0, 0, 0, today.Location())
	diffs := map[string][]int64{}
	moved, now, err := h.movements(ctx, []string{account}, start, time.Time{}, func(created int64, cur string, diff int64) {
		if i := dayIndex(start, time.Unix(created, 0).In(today.Location())); i >= 0 && i < n {
			if diffs[cur] == nil {
				diffs[cur] = make([]int64, n)
			}
			diffs[cur][i] += diff
		}
	})
	r := now[account]
	if err != nil || !r.Known {
		return MRRMonth{Recurring: r}, err
	}
	out := MRRMonth{Days: map[string][]int64{}, Moved: moved, Recurring: r}
	for cur := range r.MRR {
		diffs[cur] = append(diffs[cur], make([]int64, n-len(diffs[cur]))...)
	}
	for cur, diff := range diffs {
		series, v := make([]int64, n), r.MRR[cur]
		for i := n - 1; i >= 0; i-- {
			series[i] = v
			v -= diff[i]
		}
		out.Days[cur] = series
	}
	return out, nil
}

// movements are the movements of some accounts (all when none are named)
// from from until to (zero: now), with each account's Recurring today from
// the same read of its subscriptions; perDay, if set, is told each change.
// Only accounts listed whole count: a customer's MRR before the span (new
// or expansion? churn or contraction?) is their MRR today, from the kept
// subscriptions, less what the span's events moved.
func (h History) movements(ctx context.Context, accounts []string, from, to time.Time, perDay func(created int64, cur string, diff int64)) (map[string]*Movement, map[string]Recurring, error) {
	if len(accounts) == 0 {
		all, err := h.Store.Accounts(ctx)
		if err != nil {
			return nil, nil, err
		}
		for _, a := range all {
			accounts = append(accounts, a.ID)
		}
	}
	var listed []string
	now := map[string]Recurring{}
	customerMRR := map[string]map[string]*big.Rat{} // by customer: today's, then before the span
	known := Discounts{}
	for _, account := range accounts {
		r, byCustomer, d, err := h.kept(ctx, account)
		if err != nil {
			return nil, now, err
		}
		if now[account] = r; !r.Known {
			continue
		}
		maps.Copy(known, d)
		listed = append(listed, account)
		for customer, mrr := range byCustomer {
			addMRR(customerMRR, customer, mrr, 1)
		}
	}
	out := map[string]*Movement{}
	if len(listed) == 0 {
		return out, now, nil
	}
	// The span's changes, oldest first: each subscription from its MRR
	// before the event to its MRR after.
	type change struct {
		created       int64
		customer      string
		before, after map[string]*big.Rat
	}
	var changes []change
	last := map[string]map[string]*big.Rat{} // subscription → its MRR after its last event
	err := h.Store.Scan(ctx, listed, from, from, store.Scan{Forward: func(e store.Event) {
		if !strings.HasPrefix(e.Type, "customer.subscription.") || e.Type == "customer.subscription.trial_will_end" {
			return
		}
		o := parseObj(e.Object)
		id := o.str("id")
		before, seen := last[id]
		if !seen {
			before = beforeOf(e, o, known)
		}
		after := subscriptionMRR(o, known)
		last[id] = after
		changes = append(changes, change{e.Created, customerOf(o), before, after})
	}})
	if err != nil {
		return nil, now, err
	}
	for _, c := range changes {
		addMRR(customerMRR, c.customer, c.before, 1)
		addMRR(customerMRR, c.customer, c.after, -1)
	}
	churned := map[string]bool{} // customers whose MRR went to nothing in the span
	for _, c := range changes {
		if !to.IsZero() && c.created >= to.Unix() {
			break
		}
		curs := append(slices.Collect(maps.Keys(c.before)), slices.Collect(maps.Keys(c.after))...)
		slices.Sort(curs)
		for _, cur := range slices.Compact(curs) {
			b, a := ratOr0(c.before[cur]), ratOr0(c.after[cur])
			m := out[cur]
			if m == nil {
				m = &Movement{}
				out[cur] = m
			}
			custBefore := new(big.Rat).Set(ratOr0(customerMRR[c.customer][cur])) // addMRR changes it in place
			diff := minorUnits(new(big.Rat).Sub(a, b))
			if perDay != nil && diff != 0 {
				perDay(c.created, cur, diff)
			}
			custAfter := addMRR(customerMRR, c.customer, map[string]*big.Rat{cur: new(big.Rat).Sub(a, b)}, 1)[cur]
			switch {
			case b.Sign() == 0 && a.Sign() > 0 && custBefore.Sign() <= 0 && churned[c.customer]:
				m.Reactivation += diff
			case b.Sign() == 0 && a.Sign() > 0 && custBefore.Sign() <= 0:
				m.New += diff
			case a.Sign() == 0 && b.Sign() > 0 && custAfter.Sign() <= 0:
				m.Churn -= diff
				churned[c.customer] = true
			case diff > 0:
				m.Expansion += diff
			case diff < 0:
				m.Contraction -= diff
			}
		}
	}
	return out, now, nil
}

// addMRR adds sign × an MRR by currency to a customer's, and returns the
// customer's.
func addMRR(byCustomer map[string]map[string]*big.Rat, customer string, mrr map[string]*big.Rat, sign int64) map[string]*big.Rat {
	c := byCustomer[customer]
	if c == nil {
		c = map[string]*big.Rat{}
		byCustomer[customer] = c
	}
	for cur, v := range mrr {
		if c[cur] == nil {
			c[cur] = new(big.Rat)
		}
		c[cur].Add(c[cur], new(big.Rat).Mul(v, big.NewRat(sign, 1)))
	}
	return c
}

// beforeOf is a subscription's MRR before the event that first tells of it
// in the span: nothing for a new one; its previous attributes over its
// object for an update; for one that ended, what it counted while active
// (nothing if it was set to cancel at the period's end: it left MRR then).
func beforeOf(e store.Event, o obj, known Discounts) map[string]*big.Rat {
	switch e.Type {
	case "customer.subscription.created":
		return nil
	case "customer.subscription.deleted":
		// It counted while it was paid for: not if it expired incomplete,
		// nor if it ended within its trial.
		trialEnd, trial := o.num("trial_end")
		ended, _ := o.num("ended_at")
		if o.str("status") != "canceled" || trial && trialEnd >= ended {
			return nil
		}
		was := maps.Clone(o)
		was["status"] = "active"
		return subscriptionMRR(was, known)
	}
	was := maps.Clone(o)
	maps.Copy(was, parseObj(e.Previous))
	return subscriptionMRR(was, known)
}

func ratOr0(r *big.Rat) *big.Rat {
	if r == nil {
		return new(big.Rat)
	}
	return r
}

// minorUnits rounds an exact amount half away from zero to the minor unit.
func minorUnits(v *big.Rat) int64 {
	abs := new(big.Rat).Abs(v)
	n := new(big.Int).Add(new(big.Int).Lsh(abs.Num(), 1), abs.Denom())
	q := new(big.Int).Quo(n, new(big.Int).Lsh(abs.Denom(), 1)).Int64()
	if v.Sign() < 0 {
		return -q
	}
	return q
}
