package poller

import (
	"cmp"
	"context"
	"net/http"
	"net/url"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"github.com/cashbell/cashbell/accounts"
	"github.com/cashbell/cashbell/notifier"
	"github.com/cashbell/cashbell/notifier/store"
)

// enrich reads what the event does not carry, as far as the key's permissions
// allow; every failure just leaves a detail out. It returns what it learnt,
// to be kept with the object. Reads go through stripe-go, which asks for
// 2023-10-16, so each object comes in that version's shape whatever the
// account's version (a charge still names its invoice there).
func (s *Service) enrich(ctx context.Context, c *client.API, base stripe.Params, a accounts.Account, h notifier.Happening) (notifier.Happening, store.Facts) {
	var d store.Facts
	missing := map[string]bool{}
	for _, m := range a.Missing {
		missing[m] = true
	}
	params := func() stripe.Params { p := base; p.Context = ctx; return p }
	logErr := func(what string, err error) {
		if err != nil {
			s.log.Debug("detail not read", "what", what, "account", a.ID, "err", accounts.Classify(err))
		}
	}
	r := h.Needs()
	if r.Charge != "" && !missing[accounts.PermChargeRead] {
		p := &stripe.ChargeParams{Params: params()}
		if ch, err := c.Charges.Get(r.Charge, p); err == nil {
			if h.Currency == "" {
				d.Amount, d.Currency = ch.Amount, string(ch.Currency)
			}
			if r.Invoice == "" && ch.Invoice != nil {
				r.Invoice = ch.Invoice.ID
			}
			if r.Customer == "" && ch.Customer != nil {
				r.Customer = ch.Customer.ID
			}
			if ch.BillingDetails != nil && ch.BillingDetails.Email != "" {
				d.Email = ch.BillingDetails.Email
				if ch.BillingDetails.Address != nil {
					d.Country = ch.BillingDetails.Address.Country
				}
			}
			if h.Kind != nil && (h.Kind.ID == notifier.KindRefund || h.Kind.ID == notifier.KindFailedRefund) {
				d.Refunded, d.Charged = ch.AmountRefunded, ch.Amount
			}
		} else {
			logErr("charge", err)
		}
	}
	var refunds []notifier.Refund
	if r.Refunds && !missing[accounts.PermChargeRead] {
		// charge.refunded carries the running total and names no refund: the
		// charge's refunds (List refunds, newest first; charge: "Only return
		// refunds for the charge specified") say which it can be.
		lp := &stripe.RefundListParams{Charge: stripe.String(h.Object)}
		lp.Context, lp.StripeAccount = ctx, base.StripeAccount
		lp.Limit, lp.Single = stripe.Int64(100), true
		it := c.Refunds.List(lp)
		for it.Next() {
			re := it.Refund()
			refunds = append(refunds, notifier.Refund{ID: re.ID, Amount: re.Amount, Currency: string(re.Currency), Created: re.Created})
		}
		logErr("refund", it.Err())
	}
	if r.Customer != "" && h.Customer == "" && d.Email == "" && !missing[accounts.PermCustomerRead] {
		if got, err := s.customer(ctx, c, params(), r.Customer); err == nil {
			d.Email, d.Name, d.Country = got.Email, got.who(), got.Address.Country
		} else {
			logErr("customer", err)
		}
	}
	if r.BalanceTxn != "" && !missing[accounts.PermBalanceTransactionRead] {
		d = s.settle(ctx, c, base, a, r.BalanceTxn, d)
	}
	if r.Invoice != "" && !missing[accounts.PermInvoiceRead] {
		p := &stripe.InvoiceParams{Params: params()}
		if inv, err := c.Invoices.Get(r.Invoice, p); err == nil {
			d.Reason = string(inv.BillingReason)
			charge := ""
			if inv.Charge != nil {
				charge = inv.Charge.ID
			}
			d.PaidWith = notifier.PaidWith(charge, inv.PaidOutOfBand)
			for _, da := range inv.TotalDiscountAmounts {
				d.Discount += da.Amount
			}
			if inv.StartingBalance < 0 {
				d.Credit = min(-inv.StartingBalance, inv.Total)
			}
			if inv.Lines != nil && len(inv.Lines.Data) > 0 && inv.Lines.Data[0].Price != nil {
				line := inv.Lines.Data[0]
				if line.Price.Recurring != nil {
					d.Plan = store.Price{Amount: line.Price.UnitAmount, Currency: string(line.Price.Currency),
						Interval: string(line.Price.Recurring.Interval), Quantity: line.Quantity}
				}
				if line.Price.Product != nil {
					r.Product = line.Price.Product.ID
				}
			}
		} else {
			logErr("invoice", err)
		}
	}
	if r.Product != "" {
		d.Product = s.productName(ctx, c, base, a, r.Product, missing)
	}
	h = h.With(d)
	h.SetRefunds(refunds)
	return h, d
}

// customerRead is what Cashbell reads of a customer. stripe-go v76 has no
// business_name or individual_name (2025-09-30.clover, stripe-go 83.0.0:
// "Add support for BusinessName and IndividualName on ... Customer"), so
// the customer is read into this.
type customerRead struct {
	stripe.APIResource
	Email          string `json:"email"`
	Name           string `json:"name"`
	BusinessName   string `json:"business_name"`
	IndividualName string `json:"individual_name"`
	Address        struct {
		Country string `json:"country"`
	} `json:"address"`
}

// who names a customer that has no email: a customer kept as an Accounts
// v2 account has its business or individual name instead.
func (c customerRead) who() string { return cmp.Or(c.BusinessName, c.IndividualName, c.Name) }

func (s *Service) customer(ctx context.Context, c *client.API, p stripe.Params, id string) (customerRead, error) {
	var got customerRead
	p.Context = ctx
	err := c.Customers.B.Call(http.MethodGet, "/v1/customers/"+url.PathEscape(id), c.Customers.Key, &p, &got)
	return got, err
}

// settle reads a balance transaction: the fee and what is left, in the
// currency the money settles in.
func (s *Service) settle(ctx context.Context, c *client.API, base stripe.Params, a accounts.Account, txn string, d store.Facts) store.Facts {
	p := &stripe.BalanceTransactionParams{Params: base}
	p.Context = ctx
	got, err := c.BalanceTransactions.Get(txn, p)
	if err != nil {
		s.log.Debug("detail not read", "what", "balance transaction", "account", a.ID, "err", accounts.Classify(err))
		return d
	}
	d.Fee, d.Net, d.NetCur = got.Fee, got.Net, string(got.Currency)
	return d
}

func (s *Service) productName(ctx context.Context, c *client.API, base stripe.Params, a accounts.Account, id string, missing map[string]bool) string {
	if id == "" || missing[accounts.PermProductRead] {
		return ""
	}
	key := a.ID + "/" + id
	s.mu.Lock()
	name, ok := s.products[key]
	s.mu.Unlock()
	if ok {
		return name
	}
	p := &stripe.ProductParams{Params: base}
	p.Context = ctx
	got, err := c.Products.Get(id, p)
	if err != nil {
		s.log.Debug("product not read", "account", a.ID, "product", id, "err", accounts.Classify(err))
		return ""
	}
	s.mu.Lock()
	if len(s.products) > 10000 {
		clear(s.products)
	}
	s.products[key] = got.Name
	s.mu.Unlock()
	return got.Name
}
