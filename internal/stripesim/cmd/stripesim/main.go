// Command stripesim serves the Stripe simulator on loopback for manual testing
// and screenshots. It creates one account with a logo, writes its keys (fake,
// valid only here) to the file named by -keys, and makes an event every
// -every until it is stopped.
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/cashbell/cashbell/internal/stripesim"
)

func main() {
	addr := flag.String("url-file", "", "write the base URL to this file")
	keys := flag.String("keys", "", "write the keys to this file, one per line: full, partial, secret")
	logo := flag.String("logo", "", "PNG to use as the account's branding icon")
	every := flag.Duration("every", 3*time.Second, "how often to make an event")
	failAfter := flag.Duration("fail-after", 0, "make a dozen failed payments and a dispute this long after the start (for screenshots of bad news)")
	history := flag.Int("history", 0, "make this many days of past sales in US dollars, a few a day (for the chart's screenshots; Stripe lists 30 days of events)")
	flag.Parse()

	var icon []byte
	if *logo != "" {
		data, err := os.ReadFile(*logo)
		if err != nil {
			fmt.Fprintln(os.Stderr, "stripesim:", err)
			os.Exit(1)
		}
		icon = data
	}
	sim := stripesim.New(stripesim.Options{}).Start()
	defer sim.Close()
	acct := sim.CreateAccount(stripesim.AccountSpec{DisplayName: "Acme Books", Icon: icon})
	full := sim.NewKey(acct, false, stripesim.Restricted, stripesim.AllPermissions...)
	partial := sim.NewKey(acct, false, stripesim.Restricted, stripesim.PermEventRead, stripesim.PermBalanceTransactionRead, stripesim.PermPayoutRead)
	secret := sim.NewKey(acct, true, stripesim.Secret)
	if *keys != "" {
		if err := os.WriteFile(*keys, []byte(full+"\n"+partial+"\n"+secret+"\n"), 0o600); err != nil {
			fmt.Fprintln(os.Stderr, "stripesim:", err)
			os.Exit(1)
		}
	}
	if *addr != "" {
		_ = os.WriteFile(*addr, []byte(sim.URL), 0o600)
	}
	fmt.Println(sim.URL)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	pastSales(sim.Generator(acct, false, 11), *history, time.Now())
	if *failAfter > 0 {
		go func() {
			select {
			case <-ctx.Done():
				return
			case <-time.After(*failAfter):
			}
			// A card-testing attack: a dozen declines in a few seconds,
			// which Cashbell tells as one running red notification.
			g := sim.Generator(acct, false, 7)
			for i := range 12 {
				g.FailedCharge(stripesim.Sale{Amount: int64(100 + i), Currency: "usd", Email: fmt.Sprintf("card%d@example.com", i), Country: "ES"}, "Your card was declined.")
				time.Sleep(300 * time.Millisecond)
			}
			_, ch := g.Sale(stripesim.Sale{Amount: 4900, Currency: "usd", Email: "sam@example.com", Country: "US"})
			g.Dispute(ch, "fraudulent")
		}()
	}
	sim.Generator(acct, false, uint64(time.Now().UnixNano())).Run(ctx, *every)
}

// pastSales makes 2 to 7 dollar sales on each of the days before now, more on
// weekdays, and refunds one in twelve; and, for MRR, a score of
// subscriptions from before the days, a new one every few days, some
// upgrades and a cancellation or two.
func pastSales(g *stripesim.Generator, days int, now time.Time) {
	rng := rand.New(rand.NewPCG(uint64(days), 42))
	if days == 0 {
		return
	}
	plans := []stripesim.Plan{
		{Product: "Starter plan", Amount: 2900, Currency: "usd", Interval: "month"},
		{Product: "Pro plan", Amount: 7900, Currency: "usd", Interval: "month"},
		{Product: "Team plan", Amount: 29000, Currency: "usd", Interval: "year"},
	}
	var subs []string
	for i := range 20 {
		_, sub := g.At(now.AddDate(0, 0, -days-30+i)).Subscribe(fmt.Sprintf("early%d@example.com", i), plans[i%3], 0)
		subs = append(subs, sub)
	}
	for day := days; day >= 1; day-- {
		at := now.AddDate(0, 0, -day).Add(-time.Duration(rng.IntN(6)) * time.Hour)
		switch rng.IntN(7) {
		case 0, 1, 2:
			_, sub := g.At(at).Subscribe(fmt.Sprintf("new%d@example.com", day), plans[rng.IntN(3)], 0)
			subs = append(subs, sub)
		case 3:
			g.At(at).ChangePlan(subs[rng.IntN(len(subs))], plans[1])
		case 4:
			if day%3 == 0 {
				g.At(at).CancelSubscription(subs[rng.IntN(len(subs))])
			}
		}
	}
	for day := days; day >= 1; day-- {
		date := now.AddDate(0, 0, -day)
		sales := 2 + rng.IntN(4)
		if wd := date.Weekday(); wd != time.Saturday && wd != time.Sunday {
			sales += 2
		}
		for range sales {
			at := time.Date(date.Year(), date.Month(), date.Day(), 8+rng.IntN(12), rng.IntN(60), 0, 0, date.Location())
			amount := int64(1900 + 1000*rng.IntN(12))
			_, charge := g.At(at).Sale(stripesim.Sale{Amount: amount, Currency: "usd", Email: "buyer@example.com", Country: "US"})
			if rng.IntN(12) == 0 {
				g.At(at.Add(time.Hour)).Refund(charge, amount)
			}
		}
	}
}
