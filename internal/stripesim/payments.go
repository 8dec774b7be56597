package stripesim

import (
	"maps"
	"math/big"
	"time"
)

// Sale describes a charge.
type Sale struct {
	Amount      int64
	Currency    string // lower case, as Stripe writes it
	Email       string // billing_details.email; also the customer's email
	Country     string
	Product     string // when set, the charge pays an invoice for this product
	Description string
	Fee         int64 // defaults to 2.9% + 30 minor units
	Guest       bool  // no customer object
	// Business: the customer is an Accounts v2 customer account of this
	// business name, with no email.
	Business string
}

// Sale records a succeeded charge and returns the event id and the charge id.
// On an account whose version captures asynchronously (2024-04-10 and later)
// charge.succeeded comes without its balance transaction, and a
// charge.updated follows with it, as Stripe describes for automatic_async
// capture (docs.stripe.com/payments/payment-intents/asynchronous-capture:
// "the balance_transaction field on the Charge is null ... listen for the
// charge.updated event").
func (g *Generator) Sale(sale Sale) (eventID, chargeID string) {
	g.sim.mu.Lock()
	defer g.sim.mu.Unlock()
	ds := g.ds()
	ch := g.newCharge(ds, sale, "succeeded", nil)
	return g.settle(ds, "charge.succeeded", ch), ch["id"].(string)
}

// settle emits a charge event; with asynchronous capture the balance
// transaction follows in charge.updated.
func (g *Generator) settle(ds *dataset, typ string, ch map[string]any) string {
	if !asyncCapture(g.version()) || ch["balance_transaction"] == nil {
		return g.emit(ds, typ, ch, nil)
	}
	txn := ch["balance_transaction"]
	ch["balance_transaction"] = nil
	id := g.emit(ds, typ, ch, nil)
	ch["balance_transaction"] = txn
	g.emit(ds, "charge.updated", ch, map[string]any{"balance_transaction": nil})
	return id
}

// Authorize records a charge placed on hold (capture_method=manual): it
// succeeds uncaptured, with no balance transaction until it is captured
// (charge.captured: "a charge was captured"; Charge.captured: "whether it is
// still uncaptured or has since been captured", stripe-go charge.go).
func (g *Generator) Authorize(sale Sale) (eventID, chargeID string) {
	g.sim.mu.Lock()
	defer g.sim.mu.Unlock()
	ds := g.ds()
	ch := g.newCharge(ds, sale, "succeeded", nil)
	ch["captured"], ch["amount_captured"] = false, int64(0)
	ds.objects[ch["id"].(string)+"/txn"] = map[string]any{"id": ch["balance_transaction"]}
	ch["balance_transaction"] = nil
	return g.emit(ds, "charge.succeeded", ch, nil), ch["id"].(string)
}

// Capture captures amount of an authorised charge (all of it when 0).
func (g *Generator) Capture(chargeID string, amount int64) string {
	g.sim.mu.Lock()
	defer g.sim.mu.Unlock()
	ds := g.ds()
	ch := ds.objects[chargeID]
	if amount == 0 {
		amount = ch["amount"].(int64)
	}
	prev := map[string]any{"captured": false, "amount_captured": int64(0), "balance_transaction": nil}
	ch["captured"], ch["amount_captured"] = true, amount
	ch["balance_transaction"] = ds.objects[chargeID+"/txn"]["id"]
	delete(ds.objects, chargeID+"/txn")
	return g.emit(ds, "charge.captured", ch, prev)
}

// FailedCharge records a failed charge and returns the event id.
func (g *Generator) FailedCharge(sale Sale, message string) string {
	g.sim.mu.Lock()
	defer g.sim.mu.Unlock()
	ds := g.ds()
	ch := g.newCharge(ds, sale, "failed", nil)
	return g.emit(ds, "charge.failed", ch, nil)
}

// Refund refunds amount of a charge (all that is left when 0) and returns
// the id of the event that announces it: refund.created where every refund
// has one, else charge.refunded. charge.refunded comes in every version and
// carries the charge, whose amount_refunded is the running total; the
// refund itself is a Refund object (GET /v1/refunds?charge=). With
// EveryRefundEvent, every event that may tell a refund comes, running
// total first.
func (g *Generator) Refund(chargeID string, amount int64) string {
	g.sim.mu.Lock()
	defer g.sim.mu.Unlock()
	ds := g.ds()
	ch := ds.objects[chargeID]
	total := ch["amount"].(int64)
	if amount == 0 {
		amount = total - ch["amount_refunded"].(int64)
	}
	// Refund.customer and .payment_method came with stripe-go v86.2.0, and
	// Stripe adds a new response field to every version ("additive changes
	// are backward-compatible", docs.stripe.com/upgrades), so every version
	// renders them.
	re := g.put(ds, "re_", map[string]any{
		"object": "refund", "amount": amount, "currency": ch["currency"], "charge": chargeID,
		"payment_intent": ch["payment_intent"], "status": "succeeded", "reason": "requested_by_customer",
		"failure_reason": nil, "balance_transaction": nil, "customer": ch["customer"], "payment_method": nil,
		"customer_account": customerAccount(ds, ch["customer"]),
	})
	// A card refund's balance transaction is type=refund, reporting_category
	// refund (docs.stripe.com/reports/reporting-categories).
	txn := g.balance(ds, -amount, ch["currency"].(string), noFee, "refund", "refund")
	txn["source"], re["balance_transaction"] = re["id"], txn["id"]
	ch["amount_refunded"] = ch["amount_refunded"].(int64) + amount
	ch["refunded"] = ch["amount_refunded"].(int64) >= total
	if g.overlap {
		charged := g.emit(ds, "charge.refunded", ch, map[string]any{"amount_refunded": ch["amount_refunded"].(int64) - amount, "refunded": false})
		g.emit(ds, "refund.created", re, nil)
		re["status"] = "succeeded"
		g.emit(ds, "refund.updated", re, map[string]any{"status": "pending"})
		return charged
	}
	var id string
	if refundEvents(g.version()) {
		id = g.emit(ds, "refund.created", re, nil)
	}
	charged := g.emit(ds, "charge.refunded", ch, nil)
	if id == "" {
		id = charged
	}
	return id
}

// FailRefund marks a refund failed: refund.failed where every refund has
// events, else charge.refund.updated ("Occurs whenever a refund is updated
// on selected payment methods", docs.stripe.com/api/events/types). With
// EveryRefundEvent, refund.updated, refund.failed and charge.refund.updated
// all come.
func (g *Generator) FailRefund(refundID, reason string) string {
	g.sim.mu.Lock()
	defer g.sim.mu.Unlock()
	ds := g.ds()
	re := ds.objects[refundID]
	prev := map[string]any{"status": re["status"], "failure_reason": nil}
	re["status"], re["failure_reason"] = "failed", reason
	ch := ds.objects[re["charge"].(string)]
	ch["amount_refunded"] = ch["amount_refunded"].(int64) - re["amount"].(int64)
	ch["refunded"] = false
	if g.overlap {
		id := g.emit(ds, "refund.updated", re, prev)
		g.emit(ds, "refund.failed", re, prev)
		g.emit(ds, "charge.refund.updated", re, prev)
		return id
	}
	if refundEvents(g.version()) {
		return g.emit(ds, "refund.failed", re, prev)
	}
	return g.emit(ds, "charge.refund.updated", re, prev)
}

// EveryRefundEvent returns a generator that sends, for each refund, every
// event that may tell it (charge.refunded, refund.created, refund.updated;
// refund.updated, refund.failed and charge.refund.updated when it fails),
// whatever the version: which of them an account gets is not documented
// for every version, and Cashbell must tell each refund once whatever mix
// comes.
func (g *Generator) EveryRefundEvent() *Generator {
	c := *g
	c.overlap = true
	return &c
}

// Refunds lists a charge's refund ids, newest last.
func (g *Generator) Refunds(chargeID string) []string {
	g.sim.mu.Lock()
	defer g.sim.mu.Unlock()
	var out []string
	ds := g.ds()
	for _, id := range ds.order {
		if o := ds.objects[id]; o["object"] == "refund" && o["charge"] == chargeID {
			out = append(out, id)
		}
	}
	return out
}

// Dispute opens a dispute on a charge and returns the event id and the dispute id.
func (g *Generator) Dispute(chargeID, reason string) (eventID, disputeID string) {
	g.sim.mu.Lock()
	defer g.sim.mu.Unlock()
	ds := g.ds()
	ch := ds.objects[chargeID]
	ch["disputed"] = true
	dp := g.put(ds, "dp_", map[string]any{
		"object": "dispute", "amount": ch["amount"], "currency": ch["currency"], "charge": chargeID,
		"payment_intent": ch["payment_intent"], "reason": reason, "status": "needs_response", "is_charge_refundable": false,
		"evidence_details": map[string]any{"due_by": g.now().Add(7 * 24 * time.Hour).Unix(), "has_evidence": false},
	})
	// Dispute.balance_transactions: "List of zero, one, or two balance
	// transactions that show funds withdrawn and reinstated to your Stripe
	// account as a result of this dispute" (stripe-go dispute.go); a
	// dispute's are type=adjustment, which reporting_category tells apart
	// as dispute and dispute_reversal (docs.stripe.com/reports/
	// reporting-categories).
	withdrawn := g.balance(ds, -ch["amount"].(int64), ch["currency"].(string), disputeFee, "adjustment", "dispute")
	withdrawn["source"] = dp["id"]
	dp["balance_transactions"] = []any{maps.Clone(withdrawn)}
	return g.emit(ds, "charge.dispute.created", dp, nil), dp["id"].(string)
}

// PreventDispute records a dispute that Stripe stopped before it became a
// chargeback: status prevented, with the card case type that says how,
// "block" or "resolution" ("Adds a new prevented status and the new card
// case types resolution and block", changelog basil 2025-08-27
// add-preventions-to-dispute; stripe-go dispute.go). Stripe does not say
// which events a prevented dispute sends; the simulator sends the one that
// announces every dispute, charge.dispute.created. Accounts before
// 2025-08-27 have no such status, and get nothing.
func (g *Generator) PreventDispute(chargeID, caseType string) string {
	g.sim.mu.Lock()
	defer g.sim.mu.Unlock()
	ds := g.ds()
	if !preventedDisputes(g.version()) {
		return ""
	}
	ch := ds.objects[chargeID]
	dp := g.put(ds, "dp_", map[string]any{
		"object": "dispute", "amount": ch["amount"], "currency": ch["currency"], "charge": chargeID,
		"payment_intent": ch["payment_intent"], "reason": "fraudulent", "status": "prevented", "is_charge_refundable": false,
		"evidence_details": map[string]any{"due_by": nil, "has_evidence": false}, "balance_transactions": []any{},
		"payment_method_details": map[string]any{"type": "card", "card": map[string]any{"brand": "visa", "case_type": caseType, "network_reason_code": "10.4"}},
	})
	return g.emit(ds, "charge.dispute.created", dp, nil)
}

// CloseDispute closes a dispute, won or lost (charge.dispute.closed: "the
// dispute status changes to lost, warning_closed, or won").
func (g *Generator) CloseDispute(disputeID string, won bool) string {
	g.sim.mu.Lock()
	defer g.sim.mu.Unlock()
	ds := g.ds()
	dp := ds.objects[disputeID]
	prev := map[string]any{"status": dp["status"]}
	dp["status"] = "lost"
	if won {
		dp["status"] = "won"
		back := g.balance(ds, dp["amount"].(int64), dp["currency"].(string), noFee, "adjustment", "dispute_reversal")
		back["source"] = disputeID
		dp["balance_transactions"] = append(dp["balance_transactions"].([]any), maps.Clone(back))
	}
	return g.emit(ds, "charge.dispute.closed", dp, prev)
}

// EarlyFraudWarning records a card issuer's early fraud warning on a charge
// (radar.early_fraud_warning: actionable, charge, fraud_type, payment_intent;
// stripe/openapi fixtures3.json, the same at every version here).
func (g *Generator) EarlyFraudWarning(chargeID, fraudType string) string {
	g.sim.mu.Lock()
	defer g.sim.mu.Unlock()
	ds := g.ds()
	ch := ds.objects[chargeID]
	efw := g.put(ds, "issfr_", map[string]any{"object": "radar.early_fraud_warning", "actionable": true,
		"charge": chargeID, "payment_intent": ch["payment_intent"], "fraud_type": fraudType})
	return g.emit(ds, "radar.early_fraud_warning.created", efw, nil)
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

// newCharge creates a charge; an invoice, when one is given or the sale has a
// product, is what it pays.
func (g *Generator) newCharge(ds *dataset, sale Sale, status string, invoice map[string]any) map[string]any {
	var cus, txn any
	if !sale.Guest && (sale.Email != "" || sale.Business != "") {
		cus = g.customerOf(ds, sale.Email, sale.Business, sale.Country)
	}
	if invoice == nil && sale.Product != "" {
		invoice = g.invoice(ds, cus, sale.Email, "manual", nil, []map[string]any{
			g.line(ds, Plan{Product: sale.Product, Amount: sale.Amount, Currency: sale.Currency}, 1, nil)})
	}
	if status == "succeeded" {
		txn = g.balance(ds, sale.Amount, sale.Currency, func(settled int64) int64 {
			if sale.Fee != 0 {
				return sale.Fee
			}
			return settled*29/1000 + 30
		}, "charge", "charge")["id"]
	}
	var invoiceID, desc, email, country any
	if invoice != nil {
		invoiceID = invoice["id"]
	}
	if sale.Description != "" {
		desc = sale.Description
	}
	if sale.Email != "" {
		email = sale.Email
	}
	if sale.Country != "" {
		country = sale.Country
	}
	ch := g.put(ds, "ch_", map[string]any{
		"object": "charge", "amount": sale.Amount, "amount_captured": sale.Amount, "amount_refunded": int64(0),
		"currency": sale.Currency, "customer": cus, "invoice": invoiceID, "balance_transaction": txn,
		"billing_details": map[string]any{"email": email, "name": nil, "phone": nil,
			"address": map[string]any{"country": country, "city": nil, "line1": nil, "postal_code": nil}},
		"description": desc, "status": status, "paid": status == "succeeded", "refunded": false,
		"captured": status == "succeeded", "disputed": false, "failure_code": nil, "failure_message": nil,
		"payment_intent": "pi_1" + randomToken(23),
	})
	if status == "failed" {
		ch["failure_code"], ch["failure_message"], ch["amount_captured"] = "card_declined", "Your card was declined.", int64(0)
	}
	if txn != nil {
		ds.objects[txn.(string)]["source"] = ch["id"]
	}
	if invoice != nil {
		invoice["charge"], invoice["payment_intent"] = ch["id"], ch["payment_intent"]
		if status == "succeeded" {
			invoice["status"], invoice["paid"], invoice["amount_paid"], invoice["amount_remaining"] = "paid", true, sale.Amount, int64(0)
		}
	}
	return ch
}

// invoice creates an open invoice; billingReason is Stripe's billing_reason
// ("subscription_create", "subscription_cycle", "manual"...). Its totals are
// those of stripe/openapi fixtures3.json's invoice at every version here:
// subtotal before discounts, total_discount_amounts, total, starting_balance
// (negative: the customer's credit, applied first), amount_due what is left
// to pay.
func (g *Generator) invoice(ds *dataset, cus any, email, billingReason string, subID any, lines []map[string]any) map[string]any {
	var total int64
	var cur any
	for _, l := range lines {
		total += l["amount"].(int64)
		cur = l["currency"]
	}
	var customerEmail any
	if email != "" {
		customerEmail = email
	}
	return g.put(ds, "in_", map[string]any{"object": "invoice", "customer": cus, "customer_account": customerAccount(ds, cus), "customer_email": customerEmail,
		"amount_due": total, "amount_paid": int64(0), "amount_remaining": total, "currency": cur, "status": "open", "paid": false,
		"subtotal": total, "total": total, "total_discount_amounts": []any{}, "discounts": []any{},
		"starting_balance": int64(0), "ending_balance": nil, "collection_method": "charge_automatically",
		"billing_reason": billingReason, "subscription": subID, "charge": nil, "payment_intent": nil, "paid_out_of_band": false,
		"lines": listOf(lines...)})
}

// line is an invoice line for a plan.
func (g *Generator) line(ds *dataset, plan Plan, qty int64, subID any) map[string]any {
	return map[string]any{"id": "il_1" + randomToken(23), "object": "line_item", "amount": plan.Amount * qty,
		"currency": plan.Currency, "description": lineDescription(plan, qty), "quantity": qty,
		"subscription": subID, "price": g.price(ds, plan)}
}

// balance records a balance transaction of amount in currency, converted
// into the currency the account settles in, as Stripe keeps them
// (BalanceTransaction: amount, currency, exchange_rate, fee, net, type,
// reporting_category, source; stripe/openapi fixtures3.json). "If money was
// converted from currency A to currency B, then the amount in currency A,
// times exchange_rate, would be the amount in currency B" (the API
// reference's exchange_rate), in whole units, so the simulator converts
// whole units and rounds to the settlement currency's minor unit. fee is
// worked out on the converted amount. The caller holds the lock.
func (g *Generator) balance(ds *dataset, amount int64, currency string, fee func(settled int64) int64, typ, category string) map[string]any {
	settles := g.sim.accounts[g.account].spec.Settles
	settled, rate := amount, any(nil)
	if currency != settles {
		r := exchangeRate(currency, settles)
		rate, _ = r.Float64()
		v := new(big.Rat).Mul(big.NewRat(amount, minorPerUnit(currency)), r)
		v.Mul(v, big.NewRat(minorPerUnit(settles), 1))
		f, _ := v.Float64()
		settled = int64(f + 0.5)
		if f < 0 {
			settled = int64(f - 0.5)
		}
	}
	f := fee(settled)
	return g.put(ds, "txn_", map[string]any{"object": "balance_transaction", "amount": settled, "currency": settles,
		"exchange_rate": rate, "fee": f, "net": settled - f, "type": typ, "reporting_category": category,
		"status": "pending", "source": nil})
}

// noFee: a refund's or a won dispute's balance transaction carries no fee
// here. Stripe's standard pricing charges nothing to refund and returns
// nothing of the charge's fee ("Depending on your fee schedule, refunds
// may incur fees, and Stripe's processing fees from the original
// transaction won't be returned", support.stripe.com/questions/
// understanding-fees-for-refunded-payments); a won dispute returns "the
// disputed amount and the dispute countered fee" (support.stripe.com/
// topics/disputes), and the simulator counters no dispute, so no fee comes
// back with the amount.
func noFee(int64) int64 { return 0 }

// disputeFee is the dispute fee, $15.00 in the United States
// (stripe.com/pricing, "Disputes"), charged in the settlement currency on
// the withdrawal itself: Stripe debits "the dispute amount plus the
// network dispute fee. This will appear in your balance history as a
// single balance transaction for the dispute amount and fee"
// (support.stripe.com/questions/dispute-fees-faq).
func disputeFee(int64) int64 { return 1500 }

// exchangeRate is the simulator's rate from one currency into another, per
// whole unit. They are the simulator's own, fixed so tests can work
// figures out by hand; Cashbell never uses a rate, it reads Stripe's net.
func exchangeRate(from, to string) *big.Rat {
	perUSD := map[string]*big.Rat{"usd": big.NewRat(1, 1), "eur": big.NewRat(108, 100), "gbp": big.NewRat(125, 100),
		"cad": big.NewRat(73, 100), "aud": big.NewRat(66, 100), "jpy": big.NewRat(67, 10000), "kwd": big.NewRat(325, 100)}
	a, b := perUSD[from], perUSD[to]
	if a == nil || b == nil {
		panic("stripesim: no exchange rate from " + from + " to " + to)
	}
	return new(big.Rat).Quo(a, b)
}

// minorPerUnit is how many minor units make a whole one: 1 for the
// zero-decimal currencies and 1,000 for the three-decimal ones, as the API
// counts them (docs.stripe.com/currencies#zero-decimal: BIF, CLP, DJF,
// GNF, JPY, KMF, KRW, MGA, PYG, RWF, UGX, VND, VUV, XAF, XOF, XPF;
// #three-decimal). ISK is not among them: "To maintain backwards
// compatibility, you must pass in amounts with two decimals" (the same
// page's special cases), so the API's ISK amounts are in hundredths.
func minorPerUnit(currency string) int64 {
	switch currency {
	case "bhd", "jod", "kwd", "omr", "tnd":
		return 1000
	case "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf":
		return 1
	}
	return 100
}
