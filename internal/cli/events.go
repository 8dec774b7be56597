package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/cashbell/cashbell/accounts"
	"github.com/cashbell/cashbell/notifier"
	"github.com/cashbell/cashbell/notifier/store"
)

func events(ctx context.Context, env Env, args []string) error {
	fs := newFlags("events")
	account := fs.String("account", "", "")
	limit := fs.Int("limit", 20, "")
	asJSON := fs.Bool("json", false, "")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *limit < 1 || *limit > 100000 {
		return fmt.Errorf("%w: --limit must be between 1 and 100000", errUsage)
	}
	d, done, err := openOrForward(ctx, env, request{Args: append([]string{"events"}, args...)})
	if err != nil {
		return err
	}
	defer done()
	list, err := d.Registry.List(ctx)
	if err != nil {
		return err
	}
	names := map[string]accounts.Account{}
	for _, a := range list {
		names[a.ID] = a
	}
	q := store.Query{Limit: *limit}
	if *account != "" {
		if _, ok := names[*account]; !ok {
			return fmt.Errorf("%w (%q)", accounts.ErrNotFound, *account)
		}
		q.Accounts = []string{*account}
	}
	evs, _, err := d.Store.Page(ctx, q)
	if err != nil {
		return err
	}
	opt := notifier.TextOptions{Money: notifier.NewMoney(env.Getenv("LANG"))}
	// Happenings rather than Decode: the fee and net Stripe settled later
	// (charge.updated) are kept beside the event, not in it.
	happenings, err := notifier.Happenings(ctx, notifier.History{Store: d.Store}, evs, func(id string) notifier.Source {
		a := names[id]
		return notifier.Source{Name: a.Name, Live: a.Live(), Connected: a.ConnectedID()}
	})
	if err != nil {
		return err
	}
	if *asJSON {
		rows := make([]eventRow, 0, len(evs))
		for _, h := range happenings {
			rows = append(rows, newEventRow(h, opt))
		}
		return printJSON(env.Stdout, rows)
	}
	if len(evs) == 0 {
		fmt.Fprintln(env.Stdout, "No events stored yet.")
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	detailOpt := opt
	detailOpt.NetApart = true // the NET column has it
	fmt.Fprintln(tw, "TIME\tACCOUNT\tEVENT\tAMOUNT\tNET\tDETAILS")
	for _, h := range happenings {
		amount, net := cmp.Or(h.AmountText(opt), "-"), "-"
		if h.NetCurrency != "" {
			net = opt.Money.Format(h.Net, h.NetCurrency)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", h.Event.CreatedTime().Local().Format("2006-01-02 15:04:05"), h.Event.Account,
			h.What(), amount, net, cmp.Or(h.Body(detailOpt), "-"))
	}
	return tw.Flush()
}

// eventRow is one event in `cashbell events --json`: Stripe's own object, and
// what Cashbell made of it.
type eventRow struct {
	ID       string    `json:"id"`
	Account  string    `json:"account"`
	Type     string    `json:"type"`
	Kind     string    `json:"kind,omitempty"`
	Created  time.Time `json:"created"`
	Title    string    `json:"title"`
	Body     string    `json:"body"`
	Amount   *int64    `json:"amount,omitempty"` // in the currency's minor unit
	Currency string    `json:"currency,omitempty"`
	// Fee and Net are what Stripe kept and paid out, in NetCurrency, once
	// the payment settled; absent before.
	Fee         *int64          `json:"fee,omitempty"`
	Net         *int64          `json:"net,omitempty"`
	NetCurrency string          `json:"net_currency,omitempty"`
	Customer    string          `json:"customer,omitempty"`
	Product     string          `json:"product,omitempty"`
	Link        string          `json:"link"`
	Notified    string          `json:"notified"`
	Object      json.RawMessage `json:"object"`
}

func newEventRow(h notifier.Happening, opt notifier.TextOptions) eventRow {
	t := h.Text(opt)
	r := eventRow{ID: h.Event.ID, Account: h.Event.Account, Type: h.Event.Type, Created: h.Event.CreatedTime().UTC(),
		Title: t.Title, Body: t.Body, Customer: h.Customer, Product: h.Product, Link: h.Link,
		Notified: cmp.Or(string(h.Event.Mark), "pending"), Object: h.Event.Object}
	if h.Kind != nil {
		r.Kind = h.Kind.ID
	}
	if h.HasAmount() {
		r.Amount, r.Currency = &h.Amount, h.Currency
	}
	if h.NetCurrency != "" {
		r.Fee, r.Net, r.NetCurrency = &h.Fee, &h.Net, h.NetCurrency
	}
	return r
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
