package notifier

import (
	"context"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"github.com/cashbell/cashbell/accounts"
)

// enrich reads what the event does not carry, as far as the key's permissions
// allow; every failure just leaves a detail out.
func (s *Service) enrich(ctx context.Context, c *client.API, base stripe.Params, a accounts.Account, h Happening) Happening {
	var d Details
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
	if cus := h.refs.customer; cus != "" && h.Customer == "" && !missing[accounts.PermCustomerRead] {
		p := &stripe.CustomerParams{Params: params()}
		if got, err := c.Customers.Get(cus, p); err == nil {
			d.Email = got.Email
			if got.Address != nil {
				d.Country = got.Address.Country
			}
		} else {
			logErr("customer", err)
		}
	}
	if txn := h.refs.balanceTxn; txn != "" && !missing[accounts.PermBalanceRead] {
		p := &stripe.BalanceTransactionParams{Params: params()}
		if got, err := c.BalanceTransactions.Get(txn, p); err == nil {
			d.Fee, d.Net, d.NetCur = got.Fee, got.Net, string(got.Currency)
		} else {
			logErr("balance transaction", err)
		}
	}
	if inv := h.refs.invoice; inv != "" && !missing[accounts.PermInvoiceRead] {
		p := &stripe.InvoiceParams{Params: params()}
		if got, err := c.Invoices.Get(inv, p); err == nil && got.Lines != nil && len(got.Lines.Data) > 0 && got.Lines.Data[0].Price != nil && got.Lines.Data[0].Price.Product != nil {
			d.Product = s.productName(ctx, c, base, a, got.Lines.Data[0].Price.Product.ID, missing)
		} else {
			logErr("invoice", err)
		}
	}
	if prod := h.refs.product; prod != "" {
		d.Product = s.productName(ctx, c, base, a, prod, missing)
	}
	return h.With(d)
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
