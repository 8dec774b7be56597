package notifier

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Kind is one kind of happening Cashbell notifies about. Everything Cashbell
// knows about a kind is in its row of Kinds: the Stripe event types it
// covers, its switch in Preferences, how its amount is read, its text, its
// nouns in a summary, whether it is bad news, and where the Dashboard shows it.
type Kind struct {
	ID    string   // stable: settings and filters refer to it
	Types []string // the Stripe event types it covers
	Label string   // its switch in Preferences and its filter in Activity
	One   string   // its noun in a summary: "3 sales"
	Many  string
	Money bool // its amounts add up, per currency, in summaries and the tray
	Bad   bool // bad news: it asks for attention and never waits in a summary
	// Dashboard is the Dashboard section of its object ("payments/<id>").
	Dashboard string

	// decode reads what the kind needs from the event's object, once.
	decode func(h *Happening)
	// title is what happened, in a few words.
	title func(h *Happening) string
	// body adds the kind's parts of the notification's body, in order.
	body func(h *Happening, b *body)
	// worth reports whether this happening is worth a notification at all
	// (nil: always).
	worth func(h *Happening) bool
}

// Kinds lists every kind, in the order Preferences and Activity show them.
var Kinds = []*Kind{
	{ID: "sale", Types: []string{"charge.succeeded"}, Label: "Sales", One: "sale", Many: "sales", Money: true, Dashboard: "payments",
		decode: func(h *Happening) {
			decodeCharge(h)
			h.refs.balanceTxn = h.o.id("balance_transaction") // the fee and the net
		},
		title: fixed("New sale"),
		body: func(h *Happening, b *body) {
			b.add(joinNonEmpty(" from ", b.money(h.Amount, h.Currency), h.customer()), h.Product)
			if h.NetCurrency != "" && !b.opt.HideAmounts {
				b.add("net " + b.money(h.Net, h.NetCurrency))
			}
		}},
	{ID: "refund", Types: []string{"charge.refunded"}, Label: "Refunds", One: "refund", Many: "refunds", Money: true, Dashboard: "payments",
		decode: func(h *Happening) {
			decodeCharge(h)
			h.charged = h.Amount
			h.Amount, _ = h.o.num("amount_refunded")
		},
		title: fixed("Refund"),
		body: func(h *Happening, b *body) {
			line := b.money(h.Amount, h.Currency) + " refunded"
			if h.Amount < h.charged && !b.opt.HideAmounts {
				line = b.money(h.Amount, h.Currency) + " of " + b.money(h.charged, h.Currency) + " refunded"
			}
			b.add(joinNonEmpty(" to ", line, h.customer()), h.Product)
		}},
	{ID: "failed_payment", Types: []string{"charge.failed"}, Label: "Failed payments", One: "failed payment", Many: "failed payments",
		Money: true, Bad: true, Dashboard: "payments",
		decode: decodeCharge,
		title:  fixed("Payment failed"),
		body: func(h *Happening, b *body) {
			b.add(joinNonEmpty(" from ", b.money(h.Amount, h.Currency), h.customer()), h.o.text("failure_message"))
		}},
	{ID: "dispute", Types: []string{"charge.dispute.created"}, Label: "Disputes", One: "dispute", Many: "disputes",
		Money: true, Bad: true, Dashboard: "disputes",
		decode: func(h *Happening) {
			h.Amount, h.Currency = amountOf(h.o)
			if ch := h.o.id("charge"); ch != "" {
				h.Object, h.section = ch, "payments" // the Dashboard shows a dispute on its payment
			}
		},
		title: fixed("New dispute"),
		body: func(h *Happening, b *body) {
			b.add(b.money(h.Amount, h.Currency)+" disputed", reason(h.o.text("reason")))
			if due, ok := h.o.num("evidence_details", "due_by"); ok && due > 0 {
				b.add("respond by " + b.date(due))
			}
		}},
	// charge.dispute.closed: "Occurs when a dispute is closed and the dispute
	// status changes to lost, warning_closed, or won" (Stripe's event types).
	{ID: "dispute_closed", Types: []string{"charge.dispute.closed"}, Label: "Disputes closed", One: "dispute closed", Many: "disputes closed",
		Money: true, Dashboard: "disputes",
		decode: func(h *Happening) {
			h.Amount, h.Currency = amountOf(h.o)
			if ch := h.o.id("charge"); ch != "" {
				h.Object, h.section = ch, "payments"
			}
		},
		title: func(h *Happening) string {
			switch h.o.str("status") {
			case "won":
				return "Dispute won"
			case "lost":
				return "Dispute lost"
			}
			return "Dispute closed"
		},
		body: func(h *Happening, b *body) { b.add(b.money(h.Amount, h.Currency), reason(h.o.text("reason"))) }},
	{ID: "payout", Types: []string{"payout.paid"}, Label: "Payouts paid", One: "payout", Many: "payouts", Money: true, Dashboard: "payouts",
		decode: decodeAmount,
		title:  fixed("Payout paid"),
		body: func(h *Happening, b *body) {
			line := b.money(h.Amount, h.Currency)
			if at, ok := h.o.num("arrival_date"); ok && at > 0 {
				line += " arriving " + b.date(at)
			}
			b.add(line)
		}},
	{ID: "failed_payout", Types: []string{"payout.failed"}, Label: "Failed payouts", One: "failed payout", Many: "failed payouts",
		Money: true, Bad: true, Dashboard: "payouts",
		decode: decodeAmount,
		title:  fixed("Payout failed"),
		body:   func(h *Happening, b *body) { b.add(b.money(h.Amount, h.Currency), h.o.text("failure_message")) }},
	{ID: "new_subscription", Types: []string{"customer.subscription.created"}, Label: "New subscriptions",
		One: "new subscription", Many: "new subscriptions", Dashboard: "subscriptions",
		decode: decodeSubscription,
		title: func(h *Happening) string {
			if h.o.str("status") == "trialing" {
				return "New trial"
			}
			return "New subscription"
		},
		body: func(h *Happening, b *body) {
			b.add(h.customer(), b.plan(h))
			if end, ok := h.o.num("trial_end"); ok && end > 0 && h.o.str("status") == "trialing" {
				b.add("trial ends " + b.date(end))
			}
		}},
	{ID: "subscription_change", Types: []string{"customer.subscription.updated"}, Label: "Subscription changes",
		One: "subscription change", Many: "subscription changes", Dashboard: "subscriptions",
		decode: decodeSubscription,
		title:  fixed("Subscription changed"),
		body: func(h *Happening, b *body) {
			b.add(h.customer())
			b.add(subscriptionChanges(h, b)...)
		},
		worth: func(h *Happening) bool { return len(subscriptionChanges(h, &body{})) > 0 }},
	{ID: "cancellation", Types: []string{"customer.subscription.deleted"}, Label: "Cancelled subscriptions",
		One: "cancellation", Many: "cancellations", Dashboard: "subscriptions",
		decode: decodeSubscription,
		title:  fixed("Subscription cancelled"),
		body:   func(h *Happening, b *body) { b.add(h.customer(), b.plan(h)) }},
	{ID: "trial_ending", Types: []string{"customer.subscription.trial_will_end"}, Label: "Trials ending",
		One: "trial ending", Many: "trial endings", Dashboard: "subscriptions",
		decode: decodeSubscription,
		title:  fixed("Trial ending soon"),
		body: func(h *Happening, b *body) {
			b.add(h.customer(), b.plan(h))
			if end, ok := h.o.num("trial_end"); ok && end > 0 {
				b.add("trial ends " + b.date(end))
			}
		}},
}

// kindOf maps each Stripe event type to its kind.
var kindOf = func() map[string]*Kind {
	m := map[string]*Kind{}
	for _, k := range Kinds {
		for _, t := range k.Types {
			m[t] = k
		}
	}
	return m
}()

// KindOf returns the kind of a Stripe event type, or nil for a type Cashbell
// stores but does not notify.
func KindOf(eventType string) *Kind { return kindOf[eventType] }

// KindByID returns a kind by its ID, or nil.
func KindByID(id string) *Kind {
	for _, k := range Kinds {
		if k.ID == id {
			return k
		}
	}
	return nil
}

// NotifiedTypes are the Stripe event types Cashbell asks for (at most 20,
// Stripe's limit for types[]).
func NotifiedTypes() []string {
	var out []string
	for _, k := range Kinds {
		out = append(out, k.Types...)
	}
	return out
}

func fixed(s string) func(*Happening) string { return func(*Happening) string { return s } }

// amountOf reads amount and currency.
func amountOf(o obj) (int64, string) {
	n, _ := o.num("amount")
	return n, strings.ToLower(o.str("currency"))
}

func decodeAmount(h *Happening) { h.Amount, h.Currency = amountOf(h.o) }

// decodeCharge reads a charge: amount, customer, and what enrichment may
// look up (the customer, the invoice's product).
func decodeCharge(h *Happening) {
	decodeAmount(h)
	h.Customer = h.o.text("billing_details", "email")
	if h.Customer == "" {
		h.Customer = h.o.text("receipt_email")
	}
	h.Country = h.o.text("billing_details", "address", "country")
	h.Product = h.o.text("description")
	h.refs = refs{customer: h.o.id("customer"), invoice: h.o.id("invoice")}
}

// decodeSubscription reads a subscription: its first item's price is the
// amount, and its product is looked up.
func decodeSubscription(h *Happening) {
	p := h.o.first("items").sub("price")
	h.Amount, _ = p.num("unit_amount")
	h.Currency = strings.ToLower(p.str("currency"))
	h.refs = refs{customer: h.o.id("customer"), product: p.id("product")}
}

func reason(r string) string {
	if r == "" {
		return ""
	}
	return "reason: " + strings.ReplaceAll(r, "_", " ")
}

// plan is "Pro plan · $49.00/month".
func (b *body) plan(h *Happening) string {
	item := h.o.first("items")
	name := h.Product
	if name == "" {
		name = item.sub("price").text("nickname")
	}
	price := b.price(item.sub("price"))
	if q, ok := item.num("quantity"); ok && q > 1 {
		price = strconv.FormatInt(q, 10) + " × " + price
	}
	return joinNonEmpty(" · ", name, price)
}

// price is "$49.00/month".
func (b *body) price(p obj) string {
	n, ok := p.num("unit_amount")
	if !ok {
		return ""
	}
	s := b.money(n, p.str("currency"))
	if iv := p.text("recurring", "interval"); iv != "" && s != "" {
		s += "/" + iv
	}
	return s
}

// subscriptionChanges lists the changes a person cares about: plan or price,
// quantity, status, and cancellation scheduled or withdrawn.
func subscriptionChanges(h *Happening, b *body) []string {
	o, prev := h.o, h.prev
	if len(prev) == 0 {
		return nil
	}
	var out []string
	if prev.has("items") || prev.has("plan") {
		was, now := prev.first("items").sub("price"), o.first("items").sub("price")
		if prev.has("plan") && was == nil {
			was = prev.sub("plan")
		}
		wasAmount, _ := was.num("unit_amount")
		nowAmount, _ := now.num("unit_amount")
		if was.str("id") != now.str("id") || wasAmount != nowAmount {
			label := func(p obj) string { return joinNonEmpty(" ", p.text("nickname"), b.price(p)) }
			line := "plan changed: " + label(was) + " → " + label(now)
			if h.Product != "" {
				line = "plan changed to " + h.Product + ": " + label(was) + " → " + label(now)
			}
			out = append(out, line)
		}
		wq, ok1 := prev.first("items").num("quantity")
		nq, ok2 := o.first("items").num("quantity")
		if ok1 && ok2 && wq != nq {
			out = append(out, fmt.Sprintf("quantity %d → %d", wq, nq))
		}
	}
	if wq, ok := prev.num("quantity"); ok {
		if nq, ok := o.num("quantity"); ok && wq != nq {
			out = append(out, fmt.Sprintf("quantity %d → %d", wq, nq))
		}
	}
	if was := prev.text("status"); was != "" && was != o.text("status") {
		out = append(out, "status "+strings.ReplaceAll(was, "_", " ")+" → "+strings.ReplaceAll(o.text("status"), "_", " "))
	}
	if prev.has("cancel_at_period_end") {
		was, _ := prev.boolean("cancel_at_period_end")
		now, _ := o.boolean("cancel_at_period_end")
		switch {
		case now && !was:
			line := "cancels at period end"
			if at, ok := o.num("cancel_at"); ok && at > 0 {
				line = "cancels on " + b.date(at)
			}
			out = append(out, line)
		case was && !now:
			out = append(out, "cancellation withdrawn")
		}
	} else if prev.has("cancel_at") {
		_, wasSet := prev.num("cancel_at")
		_, nowSet := o.num("cancel_at")
		switch {
		case nowSet && !wasSet:
			out = append(out, "cancellation scheduled")
		case wasSet && !nowSet:
			out = append(out, "cancellation withdrawn")
		}
	}
	return out
}

// date is "Jan 2" in the reader's time zone.
func (b *body) date(unix int64) string {
	loc := b.opt.Location
	if loc == nil {
		loc = time.Local
	}
	return time.Unix(unix, 0).In(loc).Format("Jan 2")
}
