package stripesim

import (
	"fmt"
	"time"
)

// Plan describes the price of a subscription.
type Plan struct {
	Product  string // product name
	Amount   int64
	Currency string
	Interval string // "day", "week", "month" or "year"; "" for a one-off price
	// Every is the price's recurring.interval_count: billed every Every
	// intervals (1 when 0).
	Every int64
	// Metered: recurring.usage_type "metered", billed on usage, else
	// "licensed" (stripe-go price.go PriceRecurringUsageType: licensed,
	// metered).
	Metered bool
}

// lineDescription is how Stripe describes a subscription's invoice line,
// "1 × Pro plan (at $49.00 / month)"; the simulator writes the amount in
// minor units to stay free of formatting.
func lineDescription(plan Plan, qty int64) string {
	if plan.Interval == "" {
		return fmt.Sprintf("%d × %s", qty, plan.Product)
	}
	return fmt.Sprintf("%d × %s (at %d %s / %s)", qty, plan.Product, plan.Amount, plan.Currency, plan.Interval)
}

// Subscribe signs a new customer up and returns the event id of
// customer.subscription.created and the subscription id. With a trial the
// subscription starts trialing and nothing is charged; without one it is
// created incomplete, its first invoice (billing_reason subscription_create)
// is paid by a charge, and it becomes active (docs.stripe.com/billing/
// subscriptions/overview: "incomplete ... the first payment"; the status
// change comes in customer.subscription.updated).
func (g *Generator) Subscribe(email string, plan Plan, trial time.Duration) (eventID, subID string) {
	g.sim.mu.Lock()
	defer g.sim.mu.Unlock()
	ds := g.ds()
	cus := g.customer(ds, email, "US")
	status, trialEnd := "incomplete", any(nil)
	if trial > 0 {
		status, trialEnd = "trialing", g.now().Add(trial).Unix()
	}
	sub := g.put(ds, "sub_", map[string]any{
		"object": "subscription", "customer": cus, "customer_account": nil, "status": status, "cancel_at_period_end": false,
		"cancel_at": nil, "canceled_at": nil, "trial_end": trialEnd, "currency": plan.Currency,
		"current_period_start": g.now().Unix(), "current_period_end": g.now().Add(30 * 24 * time.Hour).Unix(),
		"items": listOf(g.subItem(ds, plan, 1)), "latest_invoice": nil,
	})
	subID = sub["id"].(string)
	if trial > 0 {
		return g.emit(ds, "customer.subscription.created", sub, nil), subID
	}
	inv := g.invoice(ds, cus, email, "subscription_create", subID, []map[string]any{g.line(ds, plan, 1, subID)})
	sub["latest_invoice"] = inv["id"]
	eventID = g.emit(ds, "customer.subscription.created", sub, nil)
	g.payInvoice(ds, inv, email, "US", true)
	sub["status"] = "active"
	g.emit(ds, "customer.subscription.updated", sub, map[string]any{"status": "incomplete"})
	return eventID, subID
}

// SignUp is a subscription whose first invoice is not simply paid by a
// card at once.
type SignUp struct {
	Email string
	Plan  Plan
	// PercentOff is a coupon with duration "once" on the first invoice: 100
	// makes the first period free (the invoice's total_discount_amounts).
	PercentOff int64
	// Credit is the customer's credit balance, which Stripe applies to the
	// invoice before charging (Customer.balance, negative for a credit;
	// Invoice.starting_balance).
	Credit int64
	// SendInvoice: collection_method send_invoice. The subscription is
	// active at once and its first invoice waits for the customer;
	// PayFirstInvoice pays it later.
	SendInvoice bool
	// Business: the customer is an Accounts v2 customer account (Sale.Business).
	Business string
	// Customer: an existing customer subscribes (again), by id.
	Customer string
}

// SubscribeWith signs a customer up as the SignUp says and returns the
// subscription's id. What no charge pays (a 100 % coupon, a credit) leaves
// an invoice paid with nothing charged: Stripe marks it paid and sends
// invoice.paid ("Occurs whenever an invoice payment attempt succeeds or an
// invoice is marked as paid out-of-band", docs.stripe.com/api/events/types),
// and the subscription starts active, as it does when the first invoice
// needs no payment (docs.stripe.com/billing/subscriptions/overview).
func (g *Generator) SubscribeWith(s SignUp) string {
	g.sim.mu.Lock()
	defer g.sim.mu.Unlock()
	ds := g.ds()
	cusID := s.Customer
	if cusID == "" {
		cusID = g.customerOf(ds, s.Email, s.Business, "US")
	}
	ds.objects[cusID]["balance"] = -s.Credit
	sub := g.put(ds, "sub_", map[string]any{
		"object": "subscription", "customer": cusID, "customer_account": customerAccount(ds, cusID), "status": "incomplete", "cancel_at_period_end": false,
		"cancel_at": nil, "canceled_at": nil, "trial_end": nil, "currency": s.Plan.Currency,
		"current_period_start": g.now().Unix(), "current_period_end": g.now().Add(30 * 24 * time.Hour).Unix(),
		"items": listOf(g.subItem(ds, s.Plan, 1)), "latest_invoice": nil, "collection_method": "charge_automatically",
	})
	subID := sub["id"].(string)
	inv := g.invoice(ds, cusID, s.Email, "subscription_create", subID, []map[string]any{g.line(ds, s.Plan, 1, subID)})
	sub["latest_invoice"] = inv["id"]
	subtotal := inv["subtotal"].(int64)
	discount := subtotal * s.PercentOff / 100
	total := subtotal - discount
	if discount > 0 {
		coupon := map[string]any{"id": "FIRSTMONTH", "object": "coupon", "duration": "once", "percent_off": s.PercentOff}
		di := "di_1" + randomToken(23)
		inv["discounts"] = []any{di}
		inv["total_discount_amounts"] = []any{map[string]any{"amount": discount, "discount": di}}
		sub["discounts"] = []any{di}
		ds.objects[di] = map[string]any{"id": di, "object": "discount", "coupon": coupon, "subscription": subID}
	}
	credit := min(s.Credit, total)
	inv["total"], inv["starting_balance"] = total, -s.Credit
	inv["amount_due"], inv["amount_remaining"] = total-credit, total-credit
	ds.objects[cusID]["balance"] = -(s.Credit - credit)
	if s.SendInvoice {
		sub["collection_method"], inv["collection_method"] = "send_invoice", "send_invoice"
		sub["status"] = "active"
		g.emit(ds, "customer.subscription.created", sub, nil)
		return subID
	}
	if total-credit > 0 {
		g.emit(ds, "customer.subscription.created", sub, nil)
		g.payInvoice(ds, inv, s.Email, "US", true)
		sub["status"] = "active"
		g.emit(ds, "customer.subscription.updated", sub, map[string]any{"status": "incomplete"})
		return subID
	}
	sub["status"] = "active"
	g.emit(ds, "customer.subscription.created", sub, nil)
	g.markPaid(ds, inv, false)
	return subID
}

// PayFirstInvoice pays a send_invoice subscription's open first invoice,
// days after it was sent: by card (a charge, then invoice.paid), or marked
// paid outside Stripe (paid_out_of_band, invoice.paid and no charge).
func (g *Generator) PayFirstInvoice(subID string, outOfBand bool) {
	g.sim.mu.Lock()
	defer g.sim.mu.Unlock()
	ds := g.ds()
	inv := ds.objects[ds.objects[subID]["latest_invoice"].(string)]
	if outOfBand {
		g.markPaid(ds, inv, true)
		return
	}
	email, _ := inv["customer_email"].(string)
	g.payInvoice(ds, inv, email, "US", true)
}

// markPaid marks an invoice paid without a charge and sends invoice.paid.
func (g *Generator) markPaid(ds *dataset, inv map[string]any, outOfBand bool) {
	inv["status"], inv["paid"], inv["paid_out_of_band"] = "paid", true, outOfBand
	if outOfBand {
		inv["amount_paid"] = inv["amount_due"]
	}
	inv["amount_remaining"] = int64(0)
	g.emit(ds, "invoice.paid", inv, nil)
}

// payInvoice pays (or fails to pay) an invoice with a charge, as Stripe does
// at a subscription's start and at each renewal: charge.succeeded or
// charge.failed, then invoice.paid or invoice.payment_failed.
func (g *Generator) payInvoice(ds *dataset, inv map[string]any, email, country string, ok bool) string {
	sale := Sale{Amount: inv["amount_due"].(int64), Currency: inv["currency"].(string), Email: email, Country: country}
	if !ok {
		ch := g.newCharge(ds, sale, "failed", inv)
		ch["customer"] = inv["customer"]
		id := g.emit(ds, "charge.failed", ch, nil)
		g.emit(ds, "invoice.payment_failed", inv, nil)
		return id
	}
	sale.Guest = true // the invoice's customer pays
	ch := g.newCharge(ds, sale, "succeeded", inv)
	ch["customer"] = inv["customer"]
	id := g.settle(ds, "charge.succeeded", ch)
	g.emit(ds, "invoice.paid", inv, nil)
	return id
}

// Renew starts a subscription's next period: its invoice (billing_reason
// subscription_cycle) is paid, or its payment fails and the subscription
// becomes past_due. It returns the charge event's id.
func (g *Generator) Renew(subID string, paid bool) string {
	g.sim.mu.Lock()
	defer g.sim.mu.Unlock()
	ds := g.ds()
	sub := ds.objects[subID]
	item := firstItem(sub)
	price := item["price"].(map[string]any)
	plan := Plan{Product: ds.objects[price["product"].(string)]["name"].(string), Amount: price["unit_amount"].(int64),
		Currency: price["currency"].(string)}
	if r, ok := price["recurring"].(map[string]any); ok {
		plan.Interval = r["interval"].(string)
	}
	cus := ds.objects[sub["customer"].(string)]
	email, _ := cus["email"].(string)
	line := g.line(ds, plan, item["quantity"].(int64), subID)
	line["price"] = price
	inv := g.invoice(ds, sub["customer"], email, "subscription_cycle", subID, []map[string]any{line})
	id := g.payInvoice(ds, inv, email, "US", paid)
	// The new period: previous attributes name what changed; from basil the
	// periods are on the items, so the items come whole ("If an array
	// attribute has any updated elements, this object contains the entire
	// array", Event.data.previous_attributes).
	prev := map[string]any{"current_period_start": sub["current_period_start"], "current_period_end": sub["current_period_end"],
		"latest_invoice": sub["latest_invoice"]}
	if basilShapes(g.version()) {
		prev["items"] = deepCopy(sub["items"])
	}
	sub["current_period_start"] = sub["current_period_end"]
	sub["current_period_end"] = time.Unix(sub["current_period_end"].(int64), 0).Add(30 * 24 * time.Hour).Unix()
	sub["latest_invoice"] = inv["id"]
	if !paid {
		prev["status"] = sub["status"]
		sub["status"] = "past_due"
	}
	g.emit(ds, "customer.subscription.updated", sub, prev)
	return id
}

// ChangePlan moves a subscription to another price; the difference is
// prorated on the next invoice (proration_behavior create_prorations, the
// default), so nothing is charged now.
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

// CustomerOf is the customer a subscription belongs to.
func (g *Generator) CustomerOf(subID string) string {
	g.sim.mu.Lock()
	defer g.sim.mu.Unlock()
	return g.ds().objects[subID]["customer"].(string)
}

// AddItem adds a price to a subscription: flexible billing lets its items
// have different intervals (docs.stripe.com/billing/subscriptions/
// billing-mode: "mixed intervals").
func (g *Generator) AddItem(subID string, plan Plan, quantity int64) string {
	return g.updateSub(subID, func(ds *dataset, sub map[string]any) map[string]any {
		prev := map[string]any{"items": deepCopy(sub["items"])}
		items := sub["items"].(map[string]any)
		items["data"] = append(items["data"].([]any), g.subItem(ds, plan, quantity))
		return prev
	})
}

// Coupon is a coupon applied to a subscription (Coupon: duration "forever",
// "once" or "repeating"; percent_off, or amount_off in a currency).
type Coupon struct {
	Duration   string
	PercentOff float64
	AmountOff  int64
	Currency   string
}

// ApplyCoupon applies a coupon to a subscription: a Discount joins its
// discounts, which Stripe gives as ids unless expanded (Subscription
// .discounts, "expandable"; stripe-go v79 and later). Until 2024-06-20 the
// subscription also carries the discount whole in discount, which
// 2025-03-31.basil removed (stripe-go v82's Subscription has no Discount).
func (g *Generator) ApplyCoupon(subID string, c Coupon) string {
	return g.updateSub(subID, func(ds *dataset, sub map[string]any) map[string]any {
		ids, _ := sub["discounts"].([]any)
		prev := map[string]any{"discounts": append([]any{}, ids...)}
		coupon := map[string]any{"id": "co_" + randomToken(8), "object": "coupon", "duration": c.Duration,
			"percent_off": nil, "amount_off": nil, "currency": nil}
		if c.PercentOff > 0 {
			coupon["percent_off"] = c.PercentOff
		} else {
			coupon["amount_off"], coupon["currency"] = c.AmountOff, c.Currency
		}
		di := "di_1" + randomToken(23)
		ds.objects[di] = map[string]any{"id": di, "object": "discount", "coupon": coupon, "subscription": subID,
			"customer": sub["customer"], "start": g.now().Unix(), "end": nil}
		sub["discounts"] = append(append([]any{}, ids...), di)
		return prev
	})
}
