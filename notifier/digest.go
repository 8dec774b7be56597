package notifier

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/cashbell/cashbell/notifier/store"
)

// DayFacts are what a morning summary says of a day, for every account.
type DayFacts struct {
	Days     Days   // the 30 days that end on the day summarised
	Disputes int    // disputes opened that day
	Payouts  Totals // payouts paid that day, by currency
	// Moved is how MRR moved that day, by currency.
	Moved map[string]*Movement
}

// DayFacts reads what happened on day's local date.
func (h History) DayFacts(ctx context.Context, day time.Time) (DayFacts, error) {
	days, err := h.SumDays(ctx, nil, day, 30)
	if err != nil {
		return DayFacts{}, err
	}
	f := DayFacts{Days: days, Payouts: Totals{}}
	y, m, d := day.Date()
	from, to := time.Date(y, m, d, 0, 0, 0, 0, day.Location()), time.Date(y, m, d+1, 0, 0, 0, 0, day.Location())
	if f.Moved, _, err = h.movements(ctx, nil, from, to, nil); err != nil {
		return f, err
	}
	err = h.Store.Scan(ctx, nil, from, from, store.Scan{Forward: func(e store.Event) {
		if e.Created >= to.Unix() || KindOf(e.Type) == nil {
			return
		}
		switch hp := Decode(e, Source{}); hp.Kind.ID {
		case KindDispute:
			f.Disputes++
		case KindPayout:
			f.Payouts.Add(hp.Amount, hp.Currency)
		}
	}})
	return f, err
}

// Digest is the morning summary of a day: "Yesterday: sales $1,234.00 ·
// refunds −$50.00" in the leading currency, then the disputes opened, the
// payouts, and whether it was the best day of the last 30.
func Digest(f DayFacts, opt TextOptions) Text {
	if opt.Money == nil {
		opt.Money = NewMoney("en-US")
	}
	title := "Yesterday: no sales"
	var body []string
	if curs := f.Days.Currencies(); len(curs) > 0 {
		cur := curs[0]
		sales, refunds := f.Days.Split(cur, 1)
		title = "Yesterday: " + DayText(opt.Money, sales, refunds, cur)
		if more := len(curs) - 1; more > 0 {
			title += " · + " + Count(more, "currency", "currencies")
		}
		if net := f.Days.Net[cur]; len(net) > 1 && net[len(net)-1] > 0 && net[len(net)-1] == slices.Max(net) {
			body = append(body, "your best day in 30 days")
		}
		if opt.HideAmounts {
			title = "Yesterday: " + Count(f.Days.Sales[cur], "sale", "sales")
		}
	}
	if net, pending := f.Days.PayoutTotal(1); (!net.Zero() || pending > 0) && !opt.HideAmounts {
		text := "net " + net.Format(opt.Money) + " after fees"
		if pending > 0 {
			text += " (" + Count(pending, "sale", "sales") + " not settled yet)"
		}
		body = append(body, text)
	}
	if moved := movedText(f.Moved, opt); moved != "" {
		body = append(body, moved)
	}
	if f.Disputes > 0 {
		body = append(body, Count(f.Disputes, "dispute", "disputes")+" opened")
	}
	if len(f.Payouts) > 0 && !opt.HideAmounts {
		body = append(body, "payouts "+f.Payouts.Format(opt.Money))
	}
	if len(body) == 0 {
		body = append(body, "Open Activity for the month.")
	}
	return Text{Title: title, Body: strings.Join(body, " · ")}
}

// movedText says how MRR moved, in the currency that moved most: "MRR
// +$49.00 (new +$98.00, churn −$49.00)".
func movedText(moved map[string]*Movement, opt TextOptions) string {
	cur, most := "", int64(-1)
	for c, m := range moved {
		if size := m.New + m.Expansion + m.Reactivation + m.Contraction + m.Churn; size > most || size == most && c < cur {
			cur, most = c, size
		}
	}
	if most <= 0 || opt.HideAmounts {
		return ""
	}
	m := moved[cur]
	format := func(v int64) string { return opt.Money.Format(v, cur) }
	var parts []string
	for _, p := range m.Parts() {
		parts = append(parts, p.Label+" "+Signed(p.Signed, format))
	}
	return "MRR " + Signed(m.Net(), format) + " (" + strings.Join(parts, ", ") + ")"
}
