package notifier

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/cashbell/cashbell/accounts"
	"github.com/cashbell/cashbell/notifier/store"
)

// MRR, subscribers and the 30 days' movements over 100,000 stored events
// (one in ten a subscription change) and 10,000 subscriptions: what
// Activity's MRR view and the tray work out, off the UI's thread.
func BenchmarkMRROver100000EventsAnd10000Subscriptions(b *testing.B) {
	ctx := context.Background()
	s, err := store.Open(filepath.Join(b.TempDir(), "cashbell.db"), store.OpenOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.SaveAccount(ctx, accounts.Account{ID: "a"}); err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	sub := func(i, qty int) []byte {
		return fmt.Appendf(nil, `{"id":"sub_%d","customer":"cus_%d","status":"active","cancel_at_period_end":false,"discounts":[],`+
			`"items":{"data":[{"quantity":%d,"price":{"unit_amount":%d,"currency":"usd","recurring":{"interval":"month","interval_count":1,"usage_type":"licensed"}}}]}}`,
			i, i, qty, 900+100*(i%50))
	}
	subs := make([]store.Subscription, 10_000)
	for i := range subs {
		subs[i] = store.Subscription{ID: fmt.Sprintf("sub_%d", i), AsOf: now.Unix(), JSON: sub(i, 1)}
	}
	if err := s.PutSubscriptions(ctx, "a", subs, now); err != nil {
		b.Fatal(err)
	}
	start := now.AddDate(0, 0, -29).Unix()
	for batch := range 100 {
		evs := make([]store.Event, 1000)
		for i := range evs {
			n := batch*1000 + i
			e := store.Event{ID: fmt.Sprintf("evt_%d", n), Created: start + int64(n*25)}
			if n%10 == 0 {
				e.Type, e.Object, e.Previous = "customer.subscription.updated", sub(n%10_000, 2), []byte(`{"items":{"data":[{"quantity":1}]}}`)
			} else {
				e.Type, e.Object = "charge.succeeded", fmt.Appendf(nil, `{"id":"ch_%d","amount":4900,"currency":"usd","captured":true}`, n)
			}
			evs[i] = e
		}
		if _, err := s.Ingest(ctx, "a", evs, nil, false); err != nil {
			b.Fatal(err)
		}
	}
	h := History{Store: s}
	b.ResetTimer()
	t0 := time.Now()
	r, err := h.Recurring(ctx, "a")
	recurring := time.Since(t0)
	month, err2 := h.MRRMonth(ctx, "a", now, 30)
	total := time.Since(t0)
	b.StopTimer()
	if err != nil || err2 != nil || r.Subscribers != 10_000 || len(month.Days["usd"]) != 30 || month.Moved["usd"] == nil {
		b.Fatalf("MRR %v, %d subscribers, %v / %v", r.MRR, r.Subscribers, err, err2)
	}
	b.ReportMetric(float64(recurring.Microseconds())/1000, "ms-mrr")
	b.ReportMetric(float64((total-recurring).Microseconds())/1000, "ms-30-days")
	fmt.Printf("MRR and subscribers over 10,000 subscriptions: %s; MRR by day and movements over 100,000 events: %s (MRR %s, moved %s in 30 days)\n",
		recurring.Round(time.Millisecond), (total - recurring).Round(time.Millisecond),
		NewMoney("en-US").Format(r.MRR["usd"], "usd"), NewMoney("en-US").Format(month.Moved["usd"].Net(), "usd"))
}
