package notifier

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/cashbell/cashbell/notifier/store"
)

// Days are sales less refunds per day and currency, for the chart in
// Activity: the last N days, oldest first, today last, in local time.
type Days struct {
	Start time.Time          // midnight of the first day
	Net   map[string][]int64 // currency → sales less refunds per day, in minor units
	In    map[string][]int64 // currency → sales per day, in minor units
	Sales map[string]int     // currency → how many sales, to order the currencies
	// Payout is what the days' sales, refunds and disputes moved in the
	// currencies the accounts are paid out in, after Stripe's fees, from
	// their balance transactions (History.SumDays fills it); Unsettled is
	// how many of each day's sales have no balance transaction known yet.
	Payout    map[string][]int64
	Unsettled []int
	// charges are the days' sales, by charge id: the day each was made, and
	// its account.
	charges map[string]daySale
}

// SumDays adds up the stored events of some accounts (all when none are
// named) by local day over the n days that end on today's date, reading
// each event once, in time order.
func SumDays(ctx context.Context, st Scanner, accounts []string, today time.Time, n int) (Days, error) {
	sum := newDaySum(today, n)
	err := st.Scan(ctx, accounts, sum.days.Start, sum.days.Start.Add(-lookBack), store.Scan{
		Forward: sum.add,
		// Rarely (a refund, before acacia, of a charge older than the window)
		// the events before the window are read, newest first, until every
		// charge counted whole is known.
		Back: func(e store.Event) bool {
			if len(sum.unknown) == 0 {
				return false
			}
			return sum.before(e)
		},
		Done: func() { clear(sum.unknown) }, // what is not found stays counted whole
	})
	return sum.days, err
}

// Scanner reads an account's events in time order (store.Store).
type Scanner interface {
	Scan(ctx context.Context, accounts []string, from, back time.Time, visit store.Scan) error
}

// lookBack bounds how far before the window SumDays reads to learn what a
// charge had refunded already.
const lookBack = 90 * 24 * time.Hour

// daySum adds events up, oldest first, as happenings: a sale is what
// Happening.MoneyIn says (holds only at capture), and a refund counts once,
// on the day it was made, by its own amount, whichever of Stripe's events
// for it come and in whatever order: refund.created names the refund,
// charge.refunded only the charge's running total. Per charge, the sum
// keeps how much it has taken out; each event takes out only what goes
// beyond that, and a failed refund puts its amount back once.
type daySum struct {
	days     Days
	n        int
	loc      *time.Location
	charges  map[string]*chargeRefunds
	refunds  map[string]bool // refund ids counted
	failures map[string]bool // failed refund ids counted
	// unknown are charges whose first word in the window was a running
	// total: refunds made before the window are in it, and are taken out
	// once the events before it are read.
	unknown map[string]firstRefund
}

// chargeRefunds is what the sum knows of one charge's refunds.
type chargeRefunds struct {
	counted int64 // taken out of the days so far
	objects int64 // the refunds seen by id, less those that failed
	// fromStart: its sale was seen, so nothing was refunded before.
	// totalSeen: a running total of it was seen.
	fromStart, totalSeen bool
}

// firstRefund is where a charge's running total was counted whole.
type firstRefund struct {
	day      int
	currency string
}

func newDaySum(today time.Time, n int) *daySum {
	y, m, d := today.Date()
	start := time.Date(y, m, d-n+1, 0, 0, 0, 0, today.Location())
	return &daySum{days: Days{Start: start, Net: map[string][]int64{}, In: map[string][]int64{}, Sales: map[string]int{},
		Payout: map[string][]int64{}, charges: map[string]daySale{}}, n: n,
		loc: today.Location(), charges: map[string]*chargeRefunds{}, refunds: map[string]bool{}, failures: map[string]bool{},
		unknown: map[string]firstRefund{}}
}

// counted reads only the events whose kind moves money.
func counted(e store.Event) bool {
	k := KindOf(e.Type)
	return k != nil && (k.ID == KindSale || k.ID == KindRefund || k.ID == KindFailedRefund)
}

func (s *daySum) charge(id string) *chargeRefunds {
	c := s.charges[id]
	if c == nil {
		c = &chargeRefunds{}
		s.charges[id] = c
	}
	return c
}

func (s *daySum) add(e store.Event) {
	if !counted(e) {
		return
	}
	h := Decode(e, Source{})
	if !h.HasAmount() && h.Kind.ID != KindRefund {
		return
	}
	day := dayIndex(s.days.Start, e.CreatedTime().In(s.loc))
	inWindow := day >= 0 && day < s.n
	var amount int64
	switch {
	case h.MoneyIn():
		s.charge(h.Object).fromStart = true
		if inWindow {
			s.put(day, h.Currency, h.Amount, h.Amount)
			s.days.Sales[h.Currency]++
			s.days.charges[h.Object] = daySale{day, e.Account}
		}
		return
	case h.Kind.ID == KindRefund && h.refund != "":
		if s.refunds[h.refund] {
			return
		}
		s.refunds[h.refund] = true
		c := s.charge(h.refs.Charge)
		c.objects += h.Amount
		amount = -max(0, c.objects-c.counted)
		c.counted = max(c.counted, c.objects)
	case h.Kind.ID == KindRefund: // charge.refunded: the running total
		c := s.charge(h.Object)
		if !c.fromStart && !c.totalSeen && inWindow {
			s.unknown[h.Object] = firstRefund{day, h.Currency}
		}
		c.totalSeen = true
		amount = -max(0, h.Refunded-c.counted)
		c.counted = max(c.counted, h.Refunded)
	case h.Kind.ID == KindFailedRefund && h.Notifies():
		if s.failures[h.refund] {
			return
		}
		s.failures[h.refund] = true
		c := s.charge(h.refs.Charge)
		if s.refunds[h.refund] {
			c.objects -= h.Amount
		}
		amount = min(h.Amount, c.counted)
		c.counted -= amount
	default:
		return
	}
	if inWindow && amount != 0 {
		s.put(day, h.Currency, amount, 0)
	}
}

// put adds to a day's net, and to its sales.
func (s *daySum) put(day int, cur string, net, in int64) {
	if s.days.Net[cur] == nil {
		s.days.Net[cur] = make([]int64, s.n)
		s.days.In[cur] = make([]int64, s.n)
	}
	s.days.Net[cur][day] += net
	s.days.In[cur][day] += in
}

// before takes in an event from before the window, newest first: the
// charge's last running total, or its sale (nothing refunded yet), says
// how much of the total counted in the window was refunded before it. It
// reports whether any charge is still unknown.
func (s *daySum) before(e store.Event) bool {
	if !counted(e) {
		return len(s.unknown) > 0
	}
	h := Decode(e, Source{})
	first, ok := s.unknown[h.Object]
	if !ok || h.Kind.ID == KindFailedRefund {
		return len(s.unknown) > 0
	}
	if e.Type == "charge.refunded" {
		s.days.Net[first.currency][first.day] += h.Refunded
	}
	if e.Type == "charge.refunded" || h.Kind.ID == KindSale {
		delete(s.unknown, h.Object)
	}
	return len(s.unknown) > 0
}

// dayIndex is how many local days t is after start (midnight); days are
// counted by date, so a 23- or 25-hour day is one day.
func dayIndex(start, t time.Time) int {
	y, m, d := t.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, start.Location())
	return int(day.Sub(start).Hours()/24 + 0.5)
}

// Split is a currency's sales and refunds over the last n days, today
// included: refunds are negative (what left), failed refunds put back.
func (d Days) Split(currency string, n int) (sales, refunds int64) {
	in, net := d.In[currency], d.Net[currency]
	for i := max(0, len(net)-n); i < len(net); i++ {
		sales += in[i]
		refunds += net[i] - in[i]
	}
	return sales, refunds
}

// Total is a currency's net over the last n days, today included.
func (d Days) Total(currency string, n int) int64 {
	sales, refunds := d.Split(currency, n)
	return sales + refunds
}

// Currencies are the currencies with sales or refunds, the one with the
// most sales first.
func (d Days) Currencies() []string {
	return slices.SortedFunc(maps.Keys(d.Net), func(a, b string) int { return cmp.Or(cmp.Compare(d.Sales[b], d.Sales[a]), strings.Compare(a, b)) })
}

// settle adds a balance transaction to the day it was made, and marks the
// sale it settles as settled.
func (d *Days) settle(t store.Balance, loc *time.Location) {
	if day := dayIndex(d.Start, time.Unix(t.Created, 0).In(loc)); day >= 0 && day < len(d.Unsettled) {
		if d.Payout[t.Currency] == nil {
			d.Payout[t.Currency] = make([]int64, len(d.Unsettled))
		}
		d.Payout[t.Currency][day] += t.Net
	}
	delete(d.charges, t.Source)
}

type daySale struct {
	day     int
	account string
}

// unsettled counts, per day, the sales left without a balance transaction,
// of the accounts whose balance transactions are listed.
func (d *Days) unsettled(listed func(account string) bool) {
	for _, s := range d.charges {
		if listed(s.account) {
			d.Unsettled[s.day]++
		}
	}
}

// PayoutTotal is the net over the last n days, today included, in each
// currency the accounts are paid out in, and how many of their sales are
// not settled yet (their net is not in it).
func (d Days) PayoutTotal(n int) (net Totals, pending int) {
	net = Totals{}
	for cur, days := range d.Payout {
		for i := max(0, len(days)-n); i < len(days); i++ {
			net[cur] += days[i]
		}
	}
	for i := max(0, len(d.Unsettled)-n); i < len(d.Unsettled); i++ {
		pending += d.Unsettled[i]
	}
	return net, pending
}
