package notifier

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cashbell/cashbell/notifier/store"
)

// Kind is one kind of happening Cashbell notifies about. Everything Cashbell
// knows about a kind is in its row of Kinds: the Stripe event types it
// covers, its switch in Preferences, how its amount is read, its text, its
// nouns in a burst, whether it is bad news, and where the Dashboard shows it.
type Kind struct {
	ID    string   // stable: settings and filters refer to it
	Types []string // the Stripe event types it covers
	Label string   // its switch in Preferences and its filter in Activity
	One   string   // its noun in a burst: "3 sales"
	Many  string
	Money bool // its amounts add up, per currency, in bursts and the tray
	Bad   bool // bad news: it asks for attention and is never folded into a burst
	// Apart: its happenings run in a notification of their own, not with
	// the sales (a payout is money leaving for the bank, not coming in).
	Apart bool
	// Out: its amount leaves the account's takings (a refund): lists show
	// it negative.
	Out   bool
	Rings bool // its notification rings the bell unless the user says otherwise
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
	// becomes names the kind a happening of this kind's events really is,
	// when its object says so ("" or nil: this one).
	becomes func(h *Happening) string
}

// Kind ids: settings, filters and totals refer to kinds by them.
const (
	KindSale               = "sale"
	KindRefund             = "refund"
	KindFailedRefund       = "failed_refund"
	KindFailedPayment      = "failed_payment"
	KindDispute            = "dispute"
	KindDisputeClosed      = "dispute_closed"
	KindEarlyFraudWarning  = "early_fraud_warning"
	KindPayout             = "payout"
	KindFailedPayout       = "failed_payout"
	KindNewSubscription    = "new_subscription"
	KindSubscriptionChange = "subscription_change"
	KindCancellation       = "cancellation"
	KindTrialEnding        = "trial_ending"
)

// Kinds lists every kind, in the order Preferences and Activity show them.
//
// One notification per happening: Stripe sends several events for one thing
// a person does. A new paid subscription is announced by its first payment
// (the charge, whose invoice says subscription_create), not by
// customer.subscription.created nor by its incomplete → active update; a
// failed renewal by its failed charge, not by the active → past_due update;
// a card hold (manual capture) by its capture, not by its authorisation.
var Kinds = []*Kind{
	{ID: KindSale, Types: []string{"charge.succeeded", "charge.captured"}, Label: "Sales", One: "sale", Many: "sales", Money: true, Rings: true, Dashboard: "payments",
		decode: func(h *Happening) {
			decodeCharge(h)
			if h.Event.Type == "charge.captured" {
				h.Amount, _ = h.o.num("amount_captured")
			}
			h.refs.BalanceTxn = h.o.id("balance_transaction") // the fee and the net, once settled
		},
		title: func(h *Happening) string {
			switch h.Reason {
			case "subscription_create":
				return "New subscription"
			case "subscription_cycle":
				return "Renewal"
			case "subscription_update":
				return "Subscription payment"
			}
			return "New sale"
		},
		body: func(h *Happening, b *body) {
			b.add(from(b.customer(h)), JoinNonEmpty(" ", h.Product, b.plan(h.Plan)), b.firstInvoice(h))
			if h.NetCurrency != "" && !b.opt.HideAmounts && !b.opt.NetApart {
				b.add("net " + b.money(h.Net, h.NetCurrency))
			}
		},
		// A charge held for manual capture is not a sale yet: the capture is
		// (Charge.captured, stripe-go charge.go; charge.captured).
		worth: func(h *Happening) bool {
			captured, known := h.o.boolean("captured")
			return h.Event.Type == "charge.captured" || captured || !known
		}},
	// Stripe sends several events for one refund, and which of them come
	// depends on the version: from 2024-10-28.acacia refund.created for every
	// refund ("Previously, these events were only sent for refunds without a
	// corresponding charge", changelog acacia refund-webhook-update), and
	// charge.refunded on every version. Whether an older account also gets
	// refund.created is not documented, so neither is trusted to come alone:
	// each refund is told once, by its id (Happening.Key), by whichever
	// event comes first.
	{ID: KindRefund, Types: []string{"refund.created", "charge.refunded"}, Label: "Refunds", One: "refund", Many: "refunds", Money: true, Out: true, Dashboard: "payments",
		decode: decodeRefund,
		title:  fixed("Refund"),
		body: func(h *Happening, b *body) {
			b.add(to(b.customer(h)), h.Product)
			if h.Charged > 0 && h.Refunded != h.Amount && !b.opt.HideAmounts {
				b.add(b.money(h.Refunded, h.Currency) + " of " + b.money(h.Charged, h.Currency) + " refunded in all")
			}
		}},
	// A refund fails after it was announced: refund.failed (acacia and
	// later), refund.updated and charge.refund.updated ("Occurs whenever a
	// refund is updated on selected payment methods") may all say so; each
	// failed refund is one red notification, by its id.
	{ID: KindFailedRefund, Types: []string{"refund.failed", "refund.updated", "charge.refund.updated"}, Label: "Failed refunds", One: "failed refund", Many: "failed refunds",
		Money: true, Bad: true, Dashboard: "payments",
		decode: decodeRefund,
		title:  fixed("Refund failed"),
		body: func(h *Happening, b *body) {
			b.add(to(b.customer(h)), reason(h.o.text("failure_reason")))
		},
		worth: func(h *Happening) bool { return h.o.str("status") == "failed" }},
	{ID: KindFailedPayment, Types: []string{"charge.failed"}, Label: "Failed payments", One: "failed payment", Many: "failed payments",
		Money: true, Bad: true, Dashboard: "payments",
		decode: decodeCharge,
		title: func(h *Happening) string {
			if h.Reason == "subscription_cycle" {
				return "Renewal failed"
			}
			return "Payment failed"
		},
		body: func(h *Happening, b *body) {
			b.add(from(b.customer(h)), JoinNonEmpty(" ", h.Product, b.plan(h.Plan)), h.o.text("failure_message"))
		}},
	// A dispute that Stripe prevented (status prevented, 2025-08-27.basil:
	// "Stripe can block or resolve disputes before they're raised to formal
	// chargebacks", changelog basil add-preventions-to-dispute; stripe-go
	// 82.5.1) asks nothing of the user: it is told as information, among the
	// closed disputes, not as an alarm.
	{ID: KindDispute, Types: []string{"charge.dispute.created"}, Label: "Disputes", One: "dispute", Many: "disputes",
		Money: true, Bad: true, Dashboard: "disputes",
		decode: decodeDispute,
		title:  fixed("New dispute"),
		body: func(h *Happening, b *body) {
			b.add(reason(h.o.text("reason")))
			if due, ok := h.o.num("evidence_details", "due_by"); ok && due > 0 {
				b.add("respond by " + b.date(due))
			}
		},
		becomes: func(h *Happening) string {
			if h.o.str("status") == "prevented" {
				return KindDisputeClosed
			}
			return ""
		}},
	// charge.dispute.closed: "Occurs when a dispute is closed and the dispute
	// status changes to lost, warning_closed, or won" (Stripe's event types).
	{ID: KindDisputeClosed, Types: []string{"charge.dispute.closed"}, Label: "Disputes closed", One: "dispute closed", Many: "disputes closed",
		Money: true, Dashboard: "disputes",
		decode: decodeDispute,
		title: func(h *Happening) string {
			switch h.o.str("status") {
			case "won":
				return "Dispute won"
			case "lost":
				return "Dispute lost"
			case "prevented":
				return "Dispute prevented"
			}
			return "Dispute closed"
		},
		body: func(h *Happening, b *body) {
			b.add(reason(h.o.text("reason")))
			if h.o.str("status") == "prevented" {
				// payment_method_details.card.case_type: block or resolution
				// (stripe-go dispute.go; docs.stripe.com/disputes/
				// prevention-preview: resolution rules "automatically resolve
				// (refund)", blocking needs Compelling Evidence 3.0).
				switch h.o.str("payment_method_details", "card", "case_type") {
				case "block":
					b.add("Stripe blocked it before it became a chargeback")
				case "resolution":
					b.add("resolved with a refund before it became a chargeback")
				default:
					b.add("Stripe stopped it before it became a chargeback")
				}
			}
		}},
	// radar.early_fraud_warning.created: the card's issuer says a payment
	// looks fraudulent; the object names the charge, not its amount
	// (stripe/openapi fixtures3.json).
	{ID: KindEarlyFraudWarning, Types: []string{"radar.early_fraud_warning.created"}, Label: "Early fraud warnings",
		One: "early fraud warning", Many: "early fraud warnings", Money: true, Bad: true, Dashboard: "payments",
		decode: func(h *Happening) {
			h.refs.Charge = h.o.id("charge")
			h.Object = h.refs.Charge
		},
		title: fixed("Early fraud warning"),
		body: func(h *Happening, b *body) {
			b.add(from(b.customer(h)), strings.ReplaceAll(h.o.text("fraud_type"), "_", " "))
		}},
	{ID: KindPayout, Types: []string{"payout.paid"}, Label: "Payouts paid", One: "payout", Many: "payouts", Money: true, Apart: true, Dashboard: "payouts",
		decode: decodeAmount,
		title:  fixed("Payout paid"),
		body: func(h *Happening, b *body) {
			if at, ok := h.o.num("arrival_date"); ok && at > 0 {
				b.add("arriving " + b.date(at))
			}
		}},
	{ID: KindFailedPayout, Types: []string{"payout.failed"}, Label: "Failed payouts", One: "failed payout", Many: "failed payouts",
		Money: true, Bad: true, Dashboard: "payouts",
		decode: decodeAmount,
		title:  fixed("Payout failed"),
		body:   func(h *Happening, b *body) { b.add(h.o.text("failure_message")) }},
	// A sign-up whose first invoice no charge paid (a first month free, a
	// credit balance, paid out of band) is announced by invoice.paid, with
	// billing_reason subscription_create ("A new subscription was created",
	// Invoice.billing_reason in stripe/openapi); one that a charge paid, by
	// that charge. A trial or a free plan has a first invoice of nothing,
	// and is announced by customer.subscription.created.
	{ID: KindNewSubscription, Types: []string{"customer.subscription.created", "invoice.paid"}, Label: "New trials and free subscriptions",
		One: "new subscription", Many: "new subscriptions", Dashboard: "subscriptions",
		decode: func(h *Happening) {
			if h.Event.Type == "invoice.paid" {
				decodeFirstInvoice(h)
				return
			}
			decodeSubscription(h)
		},
		title: func(h *Happening) string {
			if h.o.str("status") == "trialing" {
				return "New trial"
			}
			return "New subscription"
		},
		body: func(h *Happening, b *body) {
			b.add(b.customer(h), JoinNonEmpty(" · ", h.Product, b.plan(h.Plan)), b.firstInvoice(h))
			if end, ok := h.o.num("trial_end"); ok && end > 0 && h.o.str("status") == "trialing" {
				b.add("trial ends " + b.date(end))
			}
		},
		// A paid subscription is announced by its first payment.
		worth: func(h *Happening) bool {
			if h.Event.Type == "invoice.paid" {
				return h.Reason == "subscription_create" && h.invoice.subtotal > 0 && h.invoice.paidWith != paidByCharge
			}
			return h.o.str("status") == "trialing" || h.o.str("status") == "active" && h.Plan.Amount == 0
		}},
	{ID: KindSubscriptionChange, Types: []string{"customer.subscription.updated"}, Label: "Subscription changes",
		One: "subscription change", Many: "subscription changes", Dashboard: "subscriptions",
		decode: decodeSubscription,
		title:  fixed("Subscription changed"),
		body: func(h *Happening, b *body) {
			b.add(b.customer(h))
			b.add(subscriptionChanges(h, b)...)
		},
		worth: func(h *Happening) bool { return len(subscriptionChanges(h, &body{})) > 0 }},
	{ID: KindCancellation, Types: []string{"customer.subscription.deleted"}, Label: "Cancelled subscriptions",
		One: "cancellation", Many: "cancellations", Dashboard: "subscriptions",
		decode: decodeSubscription,
		title:  fixed("Subscription cancelled"),
		body:   func(h *Happening, b *body) { b.add(b.customer(h), JoinNonEmpty(" · ", h.Product, b.plan(h.Plan))) }},
	{ID: KindTrialEnding, Types: []string{"customer.subscription.trial_will_end"}, Label: "Trials ending",
		One: "trial ending", Many: "trial endings", Dashboard: "subscriptions",
		decode: decodeSubscription,
		title:  fixed("Trial ending soon"),
		body: func(h *Happening, b *body) {
			b.add(b.customer(h), JoinNonEmpty(" · ", h.Product, b.plan(h.Plan)))
			if end, ok := h.o.num("trial_end"); ok && end > 0 {
				b.add("trial ends " + b.date(end))
			}
		}},
}

// settlements are events Cashbell reads without notifying: a charge whose
// balance transaction arrives after charge.succeeded (asynchronous capture:
// "listen for the charge.updated event", docs.stripe.com/payments/
// payment-intents/asynchronous-capture). Their fee and net go to the sale's
// details, for the Activity window and `cashbell events`.
var settlements = []string{"charge.updated"}

// IsSettlement reports whether Cashbell reads an event type only for the
// settlement it may bring, never to notify.
func IsSettlement(eventType string) bool { return slices.Contains(settlements, eventType) }

// Settlement is the charge and the balance transaction that a settlement
// event brought to a sale told before it settled: a charge.updated whose
// balance_transaction was null. Both are "" for any other event.
func Settlement(e store.Event) (charge, txn string) {
	if !IsSettlement(e.Type) {
		return "", ""
	}
	o, prev := parseObj(e.Object), parseObj(e.Previous)
	txn = o.id("balance_transaction")
	if txn == "" || !prev.has("balance_transaction") || prev.id("balance_transaction") != "" {
		return "", ""
	}
	return o.str("id"), txn
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
	if i := slices.IndexFunc(Kinds, func(k *Kind) bool { return k.ID == id }); i >= 0 {
		return Kinds[i]
	}
	return nil
}

// ListedTypes are the Stripe event types Cashbell asks for (at most 20,
// Stripe's limit for types[]): every kind's, and the settlements.
func ListedTypes() []string {
	var out []string
	for _, k := range Kinds {
		out = append(out, k.Types...)
	}
	return append(out, settlements...)
}

// refundEvents reports whether an event's version sends refund.created for
// every refund: 2024-10-28.acacia and later.
func refundEvents(apiVersion string) bool {
	return len(apiVersion) >= 10 && apiVersion[:10] >= "2024-10-28"
}

// from and to put a customer after a word: "from jane@example.com (FR)".
func from(customer string) string { return after("from ", customer) }
func to(customer string) string   { return after("to ", customer) }

func after(word, s string) string {
	if s == "" {
		return ""
	}
	return word + s
}

func fixed(s string) func(*Happening) string { return func(*Happening) string { return s } }

// decodeAmount reads amount and currency.
func decodeAmount(h *Happening) {
	h.Amount, _ = h.o.num("amount")
	h.Currency = strings.ToLower(h.o.str("currency"))
}

// decodeCharge reads a charge: amount, customer, and what enrichment may
// look up: the customer, and the invoice it paid. Before basil the charge
// names its invoice; from basil it does not, and the charge itself is read
// at the version Cashbell asks for, which still has it.
func decodeCharge(h *Happening) {
	decodeAmount(h)
	h.Customer = cmp.Or(h.o.text("billing_details", "email"), h.o.text("receipt_email"))
	h.Country = h.o.text("billing_details", "address", "country")
	h.Product = h.o.text("description")
	h.refs = Needs{Customer: h.o.id("customer"), Invoice: h.o.id("invoice")}
	if !h.o.has("invoice") && h.o.id("payment_intent") != "" {
		h.refs.Charge = h.Object
	}
}

// decodeRefund reads a refund: a Refund object (refund.created, refund.failed,
// refund.updated, charge.refund.updated), or a charge whose amount_refunded
// is the running total (charge.refunded), which names none of its refunds:
// which one it tells is learnt from the charge's list of refunds.
func decodeRefund(h *Happening) {
	if h.Event.Type == "charge.refunded" {
		decodeCharge(h)
		h.Charged = h.Amount
		h.Refunded, _ = h.o.num("amount_refunded")
		h.Amount = h.Refunded
		h.refs.Refunds = true
		return
	}
	decodeAmount(h)
	h.refund = h.o.str("id")
	h.refs = Needs{Charge: h.o.id("charge")}
	h.Object = h.refs.Charge // the Dashboard shows a refund on its payment
}

// decodeFirstInvoice reads a paid invoice: what was paid, for which plan,
// and how (Invoice: amount_paid, subtotal, total_discount_amounts,
// starting_balance; before basil also charge and paid_out_of_band, which
// basil removed; stripe/openapi fixtures3.json).
func decodeFirstInvoice(h *Happening) {
	h.Amount, _ = h.o.num("amount_paid")
	h.Currency = strings.ToLower(h.o.str("currency"))
	h.Customer = h.o.text("customer_email")
	h.Reason = h.o.text("billing_reason")
	h.refs = Needs{Customer: customerOf(h.o), Invoice: h.o.str("id")}
	if line := h.o.first("lines"); line.sub("price") != nil {
		h.Plan = priceOf(line.sub("price"), line)
		h.refs.Product = line.sub("price").id("product")
	}
	h.invoice.subtotal, _ = h.o.num("subtotal")
	for _, d := range h.o.list("total_discount_amounts") {
		n, _ := d.num("amount")
		h.invoice.discount += n
	}
	if bal, _ := h.o.num("starting_balance"); bal < 0 {
		total, _ := h.o.num("total")
		h.invoice.credit = min(-bal, total)
	}
	if h.o.has("charge") {
		outOfBand, _ := h.o.boolean("paid_out_of_band")
		h.invoice.paidWith = PaidWith(h.o.id("charge"), outOfBand)
	}
}

// PaidWith says how an invoice was paid, from its charge and
// paid_out_of_band (versions before basil, and every read through
// stripe-go, which asks for 2023-10-16).
func PaidWith(charge string, outOfBand bool) string {
	switch {
	case charge != "":
		return paidByCharge
	case outOfBand:
		return paidOutOfBand
	}
	return paidOtherwise
}

// How a first invoice was paid.
const (
	paidByCharge  = "charge"
	paidOutOfBand = "out_of_band"
	paidOtherwise = "other" // nothing to pay after discounts and credit
)

// firstInvoice says what made a sign-up's first invoice cost less than its
// plan: "first month free", "$4.50 off the first month", "$9.00 from
// credit balance", "paid outside Stripe".
func (b *body) firstInvoice(h *Happening) string {
	if h.Reason != "subscription_create" {
		return ""
	}
	period := cmp.Or(h.Plan.Interval, "invoice")
	inv := h.invoice
	var parts []string
	switch {
	case inv.discount > 0 && h.Amount == 0 && inv.credit == 0 && inv.paidWith != paidOutOfBand:
		parts = append(parts, "first "+period+" free")
	case inv.discount > 0 && !b.opt.HideAmounts:
		parts = append(parts, b.money(inv.discount, h.Currency)+" off the first "+period)
	}
	if inv.credit > 0 && !b.opt.HideAmounts {
		parts = append(parts, b.money(inv.credit, h.Currency)+" from credit balance")
	}
	if inv.paidWith == paidOutOfBand {
		parts = append(parts, "paid outside Stripe")
	}
	return strings.Join(parts, " · ")
}

func decodeDispute(h *Happening) {
	decodeAmount(h)
	if ch := h.o.id("charge"); ch != "" {
		h.Object, h.section = ch, "payments" // the Dashboard shows a dispute on its payment
	}
}

// decodeSubscription reads a subscription: its first item's price is its
// plan, and its product is looked up.
func decodeSubscription(h *Happening) {
	item := h.o.first("items")
	p := item.sub("price")
	h.Plan = priceOf(p, item)
	h.Amount, h.Currency = h.Plan.Amount*max(h.Plan.Quantity, 1), h.Plan.Currency
	h.Product = p.text("nickname") // until the product's name is read
	h.refs = Needs{Customer: customerOf(h.o), Product: p.id("product")}
}

// customerOf is the customer an object names: customer, or where Accounts
// v2 left only customer_account (2025-12-15.clover), that account, which
// GET /v1/customers reads too ("You can also retrieve or update
// customer-configured Accounts using the /v1/customers endpoint",
// docs.stripe.com/connect/use-accounts-as-customers).
func customerOf(o obj) string { return cmp.Or(o.id("customer"), o.id("customer_account")) }

// priceOf reads a price and its item's quantity.
func priceOf(p, item obj) store.Price {
	n, _ := p.num("unit_amount")
	q, _ := item.num("quantity")
	return store.Price{Amount: n, Currency: strings.ToLower(p.str("currency")), Interval: p.text("recurring", "interval"), Quantity: q}
}

func reason(r string) string { return after("reason: ", strings.ReplaceAll(r, "_", " ")) }

// plan is "$49.00/month", or "3 × $9.00/month".
func (b *body) plan(p store.Price) string {
	if p.Currency == "" {
		return ""
	}
	s := b.money(p.Amount, p.Currency)
	if p.Interval != "" {
		s += "/" + p.Interval
	}
	if p.Quantity > 1 {
		s = strconv.FormatInt(p.Quantity, 10) + " × " + s
	}
	return s
}

// price is "$49.00/month".
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
			label := func(p obj) string { return JoinNonEmpty(" ", p.text("nickname"), b.plan(priceOf(p, nil))) }
			line := "plan changed: " + label(was) + " → " + label(now)
			if h.Product != "" && h.Product != now.text("nickname") {
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
	// A status change reflects a payment (incomplete → active after the first
	// one, active → past_due after a failed renewal) that has its own
	// notification, or a cancellation that has its own event: it is not news
	// of its own.
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
	return time.Unix(unix, 0).In(cmp.Or(b.opt.Location, time.Local)).Format("Jan 2")
}
