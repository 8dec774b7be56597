package notifier

import (
	"cmp"
	"strings"
	"time"

	"github.com/cashbell/cashbell/internal/safetext"
	"github.com/cashbell/cashbell/notifier/store"
)

// Happening is an event decoded once, with what enrichment added: the facts
// a notification, a tray line, an Activity row or `cashbell events` is made
// from. No caller takes its text apart again.
type Happening struct {
	Kind     *Kind // nil for an event type Cashbell does not notify
	Event    store.Event
	Account  string // the account's name, fit to show
	Object   string // the id of what the Dashboard shows
	Amount   int64  // in the currency's minor unit
	Currency string // lower case, as Stripe writes it; "" when there is no amount
	Customer string // an email, fit to show
	Country  string
	Product  string
	// Fee and Net are in NetCurrency, the currency the money settles in,
	// when the balance transaction was read.
	Fee, Net    int64
	NetCurrency string
	Link        string // the Dashboard page
	// Plan is the recurring price a payment or subscription is for, when known.
	Plan store.Price
	// Reason is why an invoice was made (Stripe's billing_reason:
	// subscription_create, subscription_cycle...), when a payment paid one.
	Reason string
	// Refunded and Charged give a refund its context: how much of how much
	// has been refunded in all.
	Refunded, Charged int64

	o, prev obj    // the event's object and previous attributes, decoded once
	section string // the Dashboard section, when not the kind's
	refs    Needs
	refund  string // the refund's id, once known
	invoice firstInvoice
	// refunds are the charge's refunds, newest first, when charge.refunded
	// was enriched: which of them the event tells is chosen at delivery.
	refunds []Refund
}

// firstInvoice is what a sign-up's first invoice says beyond its amount.
type firstInvoice struct {
	subtotal, discount, credit int64
	paidWith                   string // paidByCharge, paidOutOfBand, paidOtherwise; "" until known
}

// Needs are the ids of what enrichment may read for a happening.
type Needs struct {
	Customer, BalanceTxn, Invoice, Product string
	// Charge is a charge to read for what the event does not say: its
	// invoice (basil dropped charge.invoice from events), or its amount and
	// customer (a refund, an early fraud warning).
	Charge string
	// Refunds: list the charge's refunds, to learn which one this event
	// tells (charge.refunded says only the running total).
	Refunds bool
}

// Needs are what enrichment may read for the happening.
func (h Happening) Needs() Needs { return h.refs }

// Refund is one of a charge's refunds, as enrichment lists them.
type Refund struct {
	ID       string
	Amount   int64
	Currency string
	Created  int64
}

// SetRefunds gives a charge.refunded its charge's refunds, newest first,
// for PickRefund.
func (h *Happening) SetRefunds(rs []Refund) { h.refunds = rs }

// RefundID is the id of the refund the happening tells, once known.
func (h Happening) RefundID() string { return h.refund }

// Pending reports whether the happening needs enrichment before it can be
// judged (its amount is not in the event).
func (h Happening) Pending() bool {
	undecided := h.Event.Type == "invoice.paid" && h.invoice.paidWith == "" // basil dropped invoice.charge
	return h.refs.Refunds || h.Currency == "" && h.refs.Charge != "" || undecided
}

// Key names what happened when several events can tell it, so that it is
// told once: a refund by its id, whichever of refund.created and
// charge.refunded comes first. It is "" for an event that is its own
// happening.
func (h Happening) Key() string {
	switch {
	case h.Kind == nil:
		return ""
	case h.Kind.ID == KindRefund && h.refund != "":
		return "refund/" + h.refund
	case h.Kind.ID == KindFailedRefund && h.refund != "":
		return "refund_failed/" + h.refund
	case h.Kind.ID == KindDisputeClosed && h.o.str("status") == "prevented":
		// created as prevented, and closed as prevented if Stripe says so too
		return "dispute_prevented/" + h.o.str("id")
	}
	return ""
}

// PickRefund chooses which of its charge's refunds a charge.refunded tells:
// the oldest one made by the event's time that is not told yet. It reports
// whether it picked one, and false for ok when every one is told (the
// event repeats them). Without the list (no permission, a failed read) the
// event stands for itself.
func (h *Happening) PickRefund(told func(key string) bool) (picked, ok bool) {
	if h.Event.Type != "charge.refunded" || len(h.refunds) == 0 {
		return false, true
	}
	for i := len(h.refunds) - 1; i >= 0; i-- {
		r := h.refunds[i]
		if r.Created > h.Event.Created || told("refund/"+r.ID) {
			continue
		}
		h.refund, h.Amount, h.Currency = r.ID, r.Amount, strings.ToLower(r.Currency)
		return true, true
	}
	return false, false
}

// MoneyIn reports whether the happening is money coming in: a sale that
// was captured. The tray, the chart, Activity and every total ask it.
func (h Happening) MoneyIn() bool {
	return h.Kind != nil && h.Kind.ID == KindSale && h.HasAmount() && h.Notifies()
}

// Source is what a happening needs to know about its account.
type Source struct {
	Name      string
	Live      bool
	Connected string // the acct_ id of a connected account, else ""
}

// Decode reads an event once into a Happening.
func Decode(e store.Event, src Source) Happening {
	h := Happening{Event: e, Kind: KindOf(e.Type), Account: safetext.Clean(src.Name), o: parseObj(e.Object)}
	if len(e.Previous) > 0 {
		h.prev = parseObj(e.Previous)
	}
	h.Object = h.o.str("id")
	if h.Kind != nil {
		h.Kind.decode(&h)
		if h.Kind.becomes != nil {
			if id := h.Kind.becomes(&h); id != "" {
				h.Kind = KindByID(id)
			}
		}
	}
	h.Link = dashboardURL(h, src.Live, src.Connected)
	return h
}

// With adds what enrichment learnt; the event's own fields win.
func (h Happening) With(d store.Facts) Happening {
	if h.Customer == "" {
		h.Customer = safetext.Clean(cmp.Or(d.Email, d.Name))
	}
	if h.Country == "" {
		h.Country = safetext.Clean(d.Country)
	}
	if p := safetext.Clean(d.Product); p != "" {
		h.Product = p
	}
	// The fee and net are the payment's: a refund or dispute of it shares
	// its object, not its settlement.
	if d.NetCur != "" && h.Kind != nil && h.Kind.ID == KindSale {
		h.Fee, h.Net, h.NetCurrency = d.Fee, d.Net, strings.ToLower(d.NetCur)
	}
	if d.Plan.Currency != "" && h.Plan.Currency == "" {
		h.Plan = d.Plan
	}
	if d.Reason != "" {
		h.Reason = safetext.CleanMax(d.Reason, 40)
	}
	if d.Refund != "" && h.refs.Refunds {
		h.refund = d.Refund
	}
	if d.Currency != "" && (h.Currency == "" || h.refs.Refunds) {
		h.Amount, h.Currency = d.Amount, strings.ToLower(d.Currency)
		h.refs.Refunds = false
	}
	if d.Charged != 0 {
		h.Refunded, h.Charged = d.Refunded, d.Charged
	}
	if d.PaidWith != "" {
		h.invoice.paidWith, h.invoice.discount, h.invoice.credit = d.PaidWith, d.Discount, d.Credit
	}
	return h
}

// Notifies reports whether the happening is worth a notification at all.
func (h Happening) Notifies() bool {
	return h.Kind != nil && (h.Kind.worth == nil || h.Kind.worth(&h))
}

// Below reports whether the happening's amount is below a minimum given in
// thousandths of its currency's main unit, comparing exactly.
func (h Happening) Below(milli int64) bool {
	if milli <= 0 || !h.HasAmount() {
		return false
	}
	amount := h.Amount
	for range 3 - stripeDigits(strings.ToUpper(h.Currency)) {
		amount *= 10
	}
	return amount < milli
}

// Listed reports whether the happening is news of its own in a list
// (Activity, the tray's counts): worth a notification, and not told already
// by another event. Delivery marks the repeats it found (Happening.Key);
// history imported without notifying was never keyed, so there the
// documented rule stands in: from 2024-10-28.acacia refund.created and
// refund.failed come for every refund, so charge.refunded and the
// refund's updates only repeat them.
func (h Happening) Listed() bool {
	if !h.Notifies() || h.Event.Mark == store.MarkRepeat {
		return false
	}
	switch h.Event.Type {
	case "charge.refunded", "refund.updated", "charge.refund.updated":
		return h.Event.Mark != store.MarkSilent || !refundEvents(h.Event.APIVersion)
	}
	return true
}

// HasAmount reports whether the happening carries an amount.
func (h Happening) HasAmount() bool { return h.Currency != "" }

// TextOptions shape the text.
type TextOptions struct {
	Money       *Money
	HideAmounts bool // amounts and who paid, for screen sharing
	// NetApart leaves the net out of the details, for a view that shows it
	// in a column of its own.
	NetApart bool
	Location *time.Location // for dates; local when nil
}

// Text is a notification's title and body.
type Text struct {
	Title string
	Body  string
}

// What is what happened, in a few words: "New sale".
func (h Happening) What() string {
	if h.Kind == nil {
		return safetext.Clean(strings.ReplaceAll(h.Event.Type, ".", " "))
	}
	return h.Kind.title(&h)
}

// Text is the notification. The title leads with what happened and its
// amount, which is what a glance at a popup should catch, and names the
// account after them ("New sale · $268.87 — Acme"): where a title is cut
// short, the account goes first. The body has the facts.
func (h Happening) Text(opt TextOptions) Text {
	return Text{Title: h.Headline(opt) + " — " + AccountName(h.Account), Body: h.Body(opt)}
}

// Headline is what happened and, for a kind whose amounts add up, how much:
// "New sale · $268.87". Hidden amounts are left out.
func (h Happening) Headline(opt TextOptions) string {
	if h.Kind != nil && h.Kind.Money && h.HasAmount() && !opt.HideAmounts {
		return h.What() + " · " + h.AmountText(opt)
	}
	return h.What()
}

// Body is the facts after the headline: the customer, the product, the
// reason, the net ("from jane@example.com (FR) · Pro plan · net $47.28").
func (h Happening) Body(opt TextOptions) string {
	b := &body{opt: opt}
	if h.Kind != nil {
		h.Kind.body(&h, b)
	}
	return strings.Join(b.parts, " · ")
}

// AmountText is the amount alone ("$49.00"), or "" when there is none.
func (h Happening) AmountText(opt TextOptions) string {
	if !h.HasAmount() {
		return ""
	}
	return (&body{opt: opt}).money(h.Amount, h.Currency)
}

// AccountName is an account's name as a title shows it.
func AccountName(name string) string { return cmp.Or(name, "Stripe") }

// customer is who paid, "jane@example.com (FR)", or "" while amounts are
// hidden: screen sharing hides who paid as well as how much.
func (b *body) customer(h *Happening) string {
	if b.opt.HideAmounts || h.Customer == "" {
		return ""
	}
	if h.Country != "" {
		return h.Customer + " (" + h.Country + ")"
	}
	return h.Customer
}

// body collects a notification's parts.
type body struct {
	opt   TextOptions
	parts []string
}

func (b *body) add(parts ...string) {
	for _, x := range parts {
		if x = strings.TrimSpace(x); x != "" {
			b.parts = append(b.parts, x)
		}
	}
}

// money writes an amount: hidden, empty without a currency, or formatted.
// Without a formatter (a happening only asked whether it is worth telling)
// it is the exact decimal and the code.
func (b *body) money(minor int64, cur string) string {
	switch {
	case b.opt.HideAmounts:
		return "•••"
	case cur == "":
		return ""
	case b.opt.Money == nil:
		code := strings.ToUpper(safetext.CleanMax(cur, 8))
		return decimal(minor, code) + " " + code
	}
	return b.opt.Money.Format(minor, cur)
}

// JoinNonEmpty joins a and b with sep, or gives the one that says
// something.
func JoinNonEmpty(sep string, a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + sep + b
}

// dashboardURL is the Stripe Dashboard page of what happened. It is the one
// place that knows the Dashboard's addresses.
func dashboardURL(h Happening, live bool, connected string) string {
	u := dashboardBase(live, connected)
	if h.Kind == nil || h.Object == "" {
		return u + "events/" + h.Event.ID
	}
	return u + cmp.Or(h.section, h.Kind.Dashboard) + "/" + h.Object
}

// DashboardHome is an account's home page in the Stripe Dashboard.
func DashboardHome(s Source) string { return dashboardBase(s.Live, s.Connected) + "dashboard" }

func dashboardBase(live bool, connected string) string {
	u := "https://dashboard.stripe.com/"
	if connected != "" {
		u += connected + "/"
	}
	if !live {
		u += "test/"
	}
	return u
}
