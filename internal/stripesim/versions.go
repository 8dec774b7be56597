package stripesim

// Stripe renders an event's data.object at the API version the account had
// when the event happened, and every other answer at the version the request
// asks for (the Stripe-Version header), else at the account's. The simulator
// keeps one form of each object and renders it for a version here. What
// differs between the versions it speaks, as far as Cashbell reads:
//
//	field                                   versions                   source
//	--------------------------------------  -------------------------  ------------------------------------------------------------
//	charge.balance_transaction null on      2024-06-20 and later       changelog 2024-04-10 "automatic_async" became the default
//	  charge.succeeded, filled by a later                              capture method (docs.stripe.com/changelog/2024-04-10/
//	  charge.updated                                                   automatic-sync-default-paymentintents); docs.stripe.com/
//	                                                                   payments/payment-intents/asynchronous-capture
//	charge.invoice, payment_intent.invoice  2023-10-16, 2024-06-20     changelog basil 2025-03-31 add-support-for-multiple-partial-
//	  removed                               gone from basil            payments-on-invoices; stripe/openapi fixtures3.json (charge
//	                                                                   has "invoice" at v603, not at v1642)
//	invoice.subscription, .charge,          2023-10-16, 2024-06-20     changelog basil 2025-03-31 adds-new-parent-field-to-invoicing-
//	  .payment_intent, .paid removed;       gone from basil            objects and add-support-for-multiple-partial-payments-on-
//	  invoice.parent.subscription_details                              invoices; stripe-go v82 InvoiceParent
//	  .subscription instead
//	invoice line price → pricing            2023-10-16, 2024-06-20     changelog basil 2025-03-31 invoice-pricing-configurations;
//	  .price_details.{price,product}        pricing from basil         fixtures3.json line_item at v1642
//	subscription.current_period_start/end   top level until 2024-06-20 changelog basil 2025-03-31 deprecate-subscription-current-
//	  → items.data[].current_period_*       on items from basil        period-start-and-end; fixtures3.json subscription at v1642
//	refund.created / refund.failed for      2025-03-31.basil and later changelog acacia 2024-10-28 refund-webhook-update ("Previously,
//	  every refund (charge.refunded too)    (acacia, 2024-10-28, on)   these events were only sent for refunds without a
//	                                                                   corresponding charge"); stripe-go v81 adds refund.failed
//	refund events: refund.created,          every refund from          the same acacia changelog entry; the simulator's code gates
//	  refund.updated, refund.failed         2024-10-28.acacia          them at acacia (refundEvents), not at basil
//	dispute status prevented, with          2025-08-27.basil and later changelog basil 2025-08-27 add-preventions-to-dispute;
//	  payment_method_details.card                                      stripe-go 82.5.1 ("supported in the 2025-08-27.basil of the
//	  .case_type block or resolution                                   API, but was mistakenly excluded from this SDK")
//	subscription.discount (the first        until 2024-06-20;          stripe-go v79 Subscription.Discount, gone from v82;
//	  discount whole) removed; discounts    gone from basil            Subscription.discounts "expandable" (fixtures3.json)
//	  are ids unless expanded
//	discount.coupon → source.coupon         from 2025-09-30.clover     stripe-go v83 DiscountSource
//	event.context                           from 2025-04-30.basil      changelog basil 2025-04-30 additional-context-organization-
//	                                                                   events (Cashbell does not read it)
//
// New response fields come at every version: "Adding new properties to
// existing API responses" is a backward-compatible change (docs.stripe.com/
// upgrades), so the simulator renders refund.customer and .payment_method
// (stripe-go v86.2.0), and customer_account beside customer (2025-12-15
// .clover, changelog clover accounts-v2-v1-api-support), on every version.
//
// The newest version is 2026-11-18.endive (stripe-node 23.2.0, npm, "This
// release changes the pinned API version to 2026-11-18.endive"). Its
// changelog and those of 23.0.0 (2026-09-30.endive) and 23.1.0
// (2026-10-28.endive) flag no breaking change to a field Cashbell reads
// (their ⚠️ items touch V2 lists, Charge.payment_method_details.card.mandate,
// payment_method_types parameters, Reserve, Tax registrations, V2 accounts);
// they add Invoice.status_details and Subscription.status_details, which
// Cashbell does not read.
//
// Unchanged across these versions for what Cashbell reads (stripe-go structs
// at v76, v79, v82 and v86; stripe-node 23.2.0): payout,
// radar.early_fraud_warning, balance_transaction, file_link and the
// account's settings.dashboard and settings.branding.

import (
	"slices"
	"strings"
)

// The API versions the simulator speaks.
const (
	Version20231016 = "2023-10-16" // the version stripe-go v76 pins
	Version20240620 = "2024-06-20"
	VersionBasil    = "2025-03-31.basil"
	VersionDahlia   = "2026-07-29.dahlia" // the newest in stripe/openapi (commit af5309ca, stripe-go v86.2.0)
	VersionEndive   = "2026-11-18.endive" // stripe-node 23.2.0 pins it (npm, 2026-11-19)
)

// Versions lists them, oldest first.
var Versions = []string{Version20231016, Version20240620, VersionBasil, VersionDahlia, VersionEndive}

// Newest is the newest version the simulator speaks; the demo account is on it.
var Newest = Versions[len(Versions)-1]

// since reports whether version v is date or later; versions sort by the
// date they start with.
func since(v, date string) bool { return v[:min(len(v), 10)] >= date }

// asyncCapture: charges settle their balance transaction after
// charge.succeeded (2024-04-10 and later).
func asyncCapture(v string) bool { return since(v, "2024-04-10") }

// refundEvents: refund.created and refund.failed come for every refund
// (2024-10-28.acacia and later).
func refundEvents(v string) bool { return since(v, "2024-10-28") }

// preventedDisputes: a dispute can be prevented (2025-08-27.basil and later).
func preventedDisputes(v string) bool { return since(v, "2025-08-27") }

// basilShapes: the invoicing and subscription shapes of 2025-03-31.basil.
func basilShapes(v string) bool { return since(v, "2025-03-31") }

// render is an object (or previous attributes) as version v writes it.
func render(v string, o map[string]any) map[string]any {
	out := deepCopy(o).(map[string]any)
	if !basilShapes(v) {
		return out
	}
	switch out["object"] {
	case "charge":
		delete(out, "invoice")
	case "invoice":
		var parent any
		if sub, _ := out["subscription"].(string); sub != "" {
			parent = map[string]any{"type": "subscription_details", "quote_details": nil,
				"subscription_details": map[string]any{"subscription": sub, "metadata": map[string]any{}}}
		}
		out["parent"] = parent
		for _, gone := range []string{"subscription", "subscription_details", "charge", "payment_intent", "paid", "paid_out_of_band"} {
			delete(out, gone)
		}
		if lines, ok := out["lines"].(map[string]any); ok {
			for _, l := range lines["data"].([]any) {
				basilLine(l.(map[string]any))
			}
		}
	case "subscription":
		basilPeriods(out)
	case nil: // previous attributes: move what moved in the full object too
		basilPeriods(out)
	}
	return out
}

// basilLine moves an invoice line's price under pricing.price_details.
func basilLine(l map[string]any) {
	p, _ := l["price"].(map[string]any)
	if p != nil {
		l["pricing"] = map[string]any{"type": "price_details", "unit_amount_decimal": nil,
			"price_details": map[string]any{"price": p["id"], "product": p["product"]}}
	}
	sub := l["subscription"]
	parent := map[string]any{"type": "invoice_item_details", "invoice_item_details": map[string]any{"invoice_item": nil, "subscription": sub}}
	if sub != nil {
		parent = map[string]any{"type": "subscription_item_details", "subscription_item_details": map[string]any{"subscription": sub, "proration": false}}
	}
	l["parent"] = parent
	delete(l, "price")
	delete(l, "plan")
}

// basilPeriods moves current_period_* from the subscription to its items.
func basilPeriods(o map[string]any) {
	start, hasStart := o["current_period_start"]
	end, hasEnd := o["current_period_end"]
	if !hasStart && !hasEnd {
		return
	}
	delete(o, "current_period_start")
	delete(o, "current_period_end")
	items, _ := o["items"].(map[string]any)
	if items == nil {
		items = map[string]any{"object": "list", "data": []any{map[string]any{}}}
		o["items"] = items
	}
	for _, it := range items["data"].([]any) {
		it.(map[string]any)["current_period_start"] = start
		it.(map[string]any)["current_period_end"] = end
	}
}

// requestVersion is the version an answer is rendered at: the request's
// Stripe-Version, else the account's (docs.stripe.com/libraries/set-version:
// "your API calls to Stripe use the API version that was current when the
// SDK was released").
func requestVersion(asked, account string) string {
	if asked = strings.TrimSpace(asked); asked != "" {
		return asked
	}
	return account
}

// discounts renders a subscription's discounts at a version: ids in
// discounts unless expanded ("discounts" in expand), and before
// 2025-03-31.basil the first one whole in discount as well (stripe-go v79's
// Subscription.Discount, gone from v82). From 2025-09-30.clover a
// Discount's coupon is under source.coupon, an id unless
// "discounts.source.coupon" is expanded (stripe-go v83 DiscountSource).
func (ds *dataset) discounts(version string, out map[string]any, expand []string) map[string]any {
	if out["object"] != "subscription" {
		return out
	}
	ids, _ := out["discounts"].([]any)
	whole := func(id any) any {
		d := ds.objects[id.(string)]
		if d == nil {
			return id
		}
		r := deepCopy(d).(map[string]any)
		if since(version, "2025-09-30") {
			coupon := r["coupon"]
			if !slices.Contains(expand, "discounts.source.coupon") {
				coupon = coupon.(map[string]any)["id"]
			}
			r["source"] = map[string]any{"type": "coupon", "coupon": coupon}
			delete(r, "coupon")
		}
		return r
	}
	if !basilShapes(version) {
		out["discount"] = nil
		if len(ids) > 0 {
			out["discount"] = whole(ids[0])
		}
	}
	if slices.Contains(expand, "discounts") || slices.Contains(expand, "discounts.source.coupon") {
		expanded := make([]any, len(ids))
		for i, id := range ids {
			expanded[i] = whole(id)
		}
		out["discounts"] = expanded
	}
	return out
}
