package notifier

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Days are sales less refunds per day and currency, for the chart in
// Activity: the last N days, oldest first, today last, in local time.
type Days struct {
	Start time.Time          // midnight of the first day
	Net   map[string][]int64 // currency → sales less refunds per day, in minor units
	Sales map[string]int     // currency → how many sales, to order the currencies
}

// SumDays adds up the stored events of some accounts (all when none are
// named) by local day over the n days that end on today's date. It reads
// each event once, in time order, and only the few fields it needs.
func (s *Store) SumDays(ctx context.Context, accounts []string, today time.Time, n int) (Days, error) {
	sum := newDaySum(today, n)
	from := historyKey(sum.days.Start.Unix(), 0)
	back := historyKey(sum.days.Start.Add(-lookBack).Unix(), 0)
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketHistory).ForEachBucket(func(name []byte) error {
			if len(accounts) > 0 && !slices.Contains(accounts, string(name)) {
				return nil
			}
			c := tx.Bucket(bucketHistory).Bucket(name).Cursor()
			for k, v := c.Seek(from); k != nil; k, v = c.Next() {
				if err := ctx.Err(); err != nil {
					return err
				}
				e, err := decodeEvent(string(name), k, v)
				if err != nil {
					return err
				}
				sum.add(e)
			}
			if len(sum.unknown) == 0 {
				return nil
			}
			defer clear(sum.unknown) // what is not found stays counted whole
			// Rarely (a refund, before acacia, of a charge older than the
			// window), the events before the window are read, newest first.
			var k, v []byte
			if first, _ := c.Seek(from); first == nil {
				k, v = c.Last()
			} else {
				k, v = c.Prev()
			}
			for ; k != nil && bytes.Compare(k, back) >= 0; k, v = c.Prev() {
				if err := ctx.Err(); err != nil {
					return err
				}
				e, err := decodeEvent(string(name), k, v)
				if err != nil {
					return err
				}
				if !sum.before(e) {
					break
				}
			}
			return nil
		})
	})
	return sum.days, err
}

// lookBack bounds how far before the window SumDays reads to learn what a
// charge had refunded already.
const lookBack = 90 * 24 * time.Hour

// daySum adds events up, oldest first. Sales count once each (holds only
// at capture); a refund counts on the day it was made, by its own amount:
// a refund object's amount, or for a charge.refunded (versions before
// acacia, whose amount_refunded is the charge's running total) what that
// total grew by since the charge's last refund seen.
type daySum struct {
	days     Days
	n        int
	loc      *time.Location
	refunded map[string]int64 // charge id → running total seen
	// unknown are charges whose first word in the window was a running
	// total (charge.refunded before acacia): refunds made before the window
	// are in it, and are taken out once the events before it are read.
	unknown map[string]firstRefund
}

// firstRefund is where a charge's running total was counted whole.
type firstRefund struct {
	day      int
	currency string
}

func newDaySum(today time.Time, n int) *daySum {
	y, m, d := today.Date()
	start := time.Date(y, m, d-n+1, 0, 0, 0, 0, today.Location())
	return &daySum{days: Days{Start: start, Net: map[string][]int64{}, Sales: map[string]int{}}, n: n,
		loc: today.Location(), refunded: map[string]int64{}, unknown: map[string]firstRefund{}}
}

// moneyFields are the few fields of a charge or refund the sums need.
type moneyFields struct {
	ID             string `json:"id"`
	Amount         int64  `json:"amount"`
	AmountCaptured int64  `json:"amount_captured"`
	AmountRefunded int64  `json:"amount_refunded"`
	Currency       string `json:"currency"`
	Captured       *bool  `json:"captured"`
}

func (s *daySum) add(e Event) {
	var amount int64
	var o moneyFields
	switch e.Type {
	case "charge.succeeded", "charge.captured", "refund.created", "charge.refunded":
		if json.Unmarshal(e.Object, &o) != nil || o.Currency == "" {
			return
		}
	default:
		return
	}
	sale := false
	_, known := s.refunded[o.ID]
	switch e.Type {
	case "charge.succeeded":
		if o.Captured != nil && !*o.Captured {
			return // a hold: the sale is its capture
		}
		amount, sale = o.Amount, true
	case "charge.captured":
		amount, sale = o.AmountCaptured, true
	case "refund.created":
		amount = -o.Amount
	case "charge.refunded":
		if refundEvents(e.APIVersion) {
			return // refund.created told it
		}
		amount = -(o.AmountRefunded - s.refunded[o.ID])
		s.refunded[o.ID] = o.AmountRefunded
	}
	day := dayIndex(s.days.Start, e.CreatedTime().In(s.loc))
	if day < 0 || day >= s.n {
		return
	}
	cur := strings.ToLower(o.Currency)
	if sale {
		s.refunded[o.ID] += 0 // known from its start: nothing refunded before
	} else if e.Type == "charge.refunded" && !known {
		s.unknown[o.ID] = firstRefund{day, cur}
	}
	if s.days.Net[cur] == nil {
		s.days.Net[cur] = make([]int64, s.n)
	}
	s.days.Net[cur][day] += amount
	if sale {
		s.days.Sales[cur]++
	}
}

// before takes in an event from before the window, newest first: the
// charge's last running total, or its sale (nothing refunded yet), says
// how much of the total counted in the window was refunded before it. It
// reports whether any charge is still unknown.
func (s *daySum) before(e Event) bool {
	var o moneyFields
	charge := e.Type == "charge.refunded" || e.Type == "charge.succeeded" || e.Type == "charge.captured"
	if !charge || json.Unmarshal(e.Object, &o) != nil {
		return len(s.unknown) > 0
	}
	if first, ok := s.unknown[o.ID]; ok {
		if e.Type == "charge.refunded" {
			s.days.Net[first.currency][first.day] += o.AmountRefunded
		}
		delete(s.unknown, o.ID)
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

// Total is a currency's net over the last n days, today included.
func (d Days) Total(currency string, n int) int64 {
	var sum int64
	days := d.Net[currency]
	for i := max(0, len(days)-n); i < len(days); i++ {
		sum += days[i]
	}
	return sum
}

// Currencies are the currencies with sales or refunds, the one with the
// most sales first.
func (d Days) Currencies() []string {
	out := make([]string, 0, len(d.Net))
	for c := range d.Net {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		if d.Sales[out[i]] != d.Sales[out[j]] {
			return d.Sales[out[i]] > d.Sales[out[j]]
		}
		return out[i] < out[j]
	})
	return out
}
