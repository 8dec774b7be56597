// Command stripesim serves the Stripe simulator on loopback for manual testing
// and screenshots. It creates one account with a logo, writes its keys (fake,
// valid only here) to the file named by -keys, and makes an event every
// -every until it is stopped.
package main

import (
	"context"
	"flag"
	"fmt"
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
	sim.Generator(acct, false, 11).Past(*history, time.Now())
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
