package notifier

import (
	"fmt"
	"sort"
	"testing"
	"time"
)

// The chart's sums are exact: sales count once, holds only at capture, a
// refund by its own amount on its own day whatever the API version, and
// days are local dates.
func TestSumDays(t *testing.T) {
	loc := time.FixedZone("UTC+2", 2*3600)
	today := time.Date(2026, 11, 25, 15, 0, 0, 0, loc)
	at := func(daysAgo, hour int) int64 {
		return time.Date(2026, 11, 25-daysAgo, hour, 0, 0, 0, loc).Unix()
	}
	n := 0
	event := func(typ string, created int64, object string, version ...string) Event {
		n++
		e := Event{ID: fmt.Sprintf("evt_%d", n), Type: typ, Created: created, Object: []byte(object)}
		if len(version) > 0 {
			e.APIVersion = version[0]
		}
		return e
	}
	events := []Event{
		event("charge.succeeded", at(0, 9), `{"id":"ch_1","amount":4900,"currency":"usd"}`),
		event("charge.succeeded", at(0, 0), `{"id":"ch_2","amount":100,"currency":"usd"}`), // just after local midnight
		event("charge.succeeded", at(1, 23), `{"id":"ch_3","amount":2000,"currency":"usd"}`),
		event("charge.succeeded", at(2, 10), `{"id":"ch_4","amount":500,"currency":"jpy"}`),
		event("charge.succeeded", at(3, 10), `{"id":"ch_5","amount":9999,"currency":"usd","captured":false}`), // a hold
		event("charge.captured", at(2, 11), `{"id":"ch_5","amount":9999,"amount_captured":8000,"currency":"usd","captured":true}`),
		// Before acacia: charge.refunded carries the running total.
		event("charge.refunded", at(1, 12), `{"id":"ch_3","amount":2000,"amount_refunded":500,"currency":"usd"}`, "2024-06-20"),
		event("charge.refunded", at(0, 12), `{"id":"ch_3","amount":2000,"amount_refunded":1500,"currency":"usd"}`, "2024-06-20"),
		// From acacia: refund objects, and charge.refunded is not counted again.
		event("refund.created", at(0, 13), `{"id":"re_1","object":"refund","amount":300,"currency":"usd","charge":"ch_1"}`, "2025-03-31.basil"),
		event("charge.refunded", at(0, 13), `{"id":"ch_1","amount":4900,"amount_refunded":300,"currency":"usd"}`, "2025-03-31.basil"),
		event("charge.succeeded", at(40, 10), `{"id":"ch_old","amount":100000,"currency":"usd"}`), // out of the window
		event("payout.paid", at(0, 10), `{"id":"po_1","amount":100000,"currency":"usd"}`),
	}
	// In time order, as the store reads them.
	sort.SliceStable(events, func(i, j int) bool { return events[i].Created < events[j].Created })
	sum := newDaySum(today, 30)
	for _, e := range events {
		sum.add(e)
	}
	d := sum.days
	usd := d.Net["usd"]
	if len(usd) != 30 || usd[29] != 4900+100-1000-300 || usd[28] != 2000-500 || usd[27] != 8000 || usd[26] != 0 {
		t.Fatalf("usd by day: %v", usd[25:])
	}
	if d.Total("usd", 1) != 3700 || d.Total("usd", 7) != 3700+1500+8000 || d.Total("jpy", 30) != 500 {
		t.Fatalf("totals %d %d %d", d.Total("usd", 1), d.Total("usd", 7), d.Total("jpy", 30))
	}
	if c := d.Currencies(); len(c) != 2 || c[0] != "usd" {
		t.Fatalf("currencies %v", c)
	}
}
