package poller_test

import (
	"context"
	"testing"
	"time"

	"github.com/cashbell/cashbell/internal/stripesim"
	"github.com/cashbell/cashbell/notifier"
)

// Net in the currency the account is paid out in, from Stripe's balance
// transactions, on every version: a sale in euros counts at Stripe's
// exchange rate less Stripe's fee, a refund and a lost dispute come out by
// their own balance transactions, and an idle poll still makes one request.
func TestNetInPayoutCurrencyOnEveryVersion(t *testing.T) {
	for _, version := range stripesim.Versions {
		t.Run(version, func(t *testing.T) {
			w := newWorldAt(t, stripesim.Options{}, stripesim.AccountSpec{DisplayName: "Acme", APIVersion: version, Settles: "usd"}, stripesim.AllPermissions)
			ctx := context.Background()
			g := w.gen
			w.poll(t) // the first import, and the first listing
			g.Sale(stripesim.Sale{Amount: 10000, Currency: "usd", Email: "ann@example.com"})
			_, eur := g.Sale(stripesim.Sale{Amount: 5000, Currency: "eur", Email: "bo@example.com"})
			_, disputed := g.Sale(stripesim.Sale{Amount: 2000, Currency: "usd", Email: "cy@example.com"})
			g.Refund(eur, 1000)
			g.Dispute(disputed, "fraudulent")
			w.poll(t)
			days, err := notifier.History{Store: w.store}.SumDays(ctx, nil, time.Now(), 30)
			if err != nil {
				t.Fatal(err)
			}
			// By hand, at the simulator's 1.08 dollars a euro and 2.9% + 30¢:
			// $100.00 less $3.20 is $96.80; €50.00 is $54.00, less $1.86 is
			// $52.14; $20.00 less $0.88 is $19.12; the €10.00 refund takes
			// $10.80; the dispute takes $20.00 and its $15.00 fee.
			want := int64(9680 + 5214 + 1912 - 1080 - 3500)
			net, pending := days.PayoutTotal(1)
			if net["usd"] != want || len(net) != 1 || pending != 0 {
				t.Fatalf("net %v (%d pending), want $%d in usd alone", net, pending, want)
			}
			if sales, _ := days.Split("eur", 1); sales != 5000 {
				t.Fatalf("euro sales %d, want 5000: the sale itself stays in its currency", sales)
			}
			before := w.sim.Requests()
			w.poll(t)
			if n := w.sim.Requests() - before; n != 1 {
				t.Fatalf("an idle poll made %d requests", n)
			}
		})
	}
}
