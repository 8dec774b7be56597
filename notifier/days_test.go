package notifier

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/cashbell/cashbell/accounts"
	"github.com/cashbell/cashbell/notifier/store"
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
	event := func(typ string, created int64, object string, version ...string) store.Event {
		n++
		e := store.Event{ID: fmt.Sprintf("evt_%d", n), Type: typ, Created: created, Object: []byte(object)}
		if len(version) > 0 {
			e.APIVersion = version[0]
		}
		return e
	}
	events := []store.Event{
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

// Before acacia a refund is told by the charge's running total. A charge
// refunded in part before the chart's 30 days and again within them counts
// only what the second refund added, learnt from the events before the
// window; one whose history the store lacks counts its total, as before.
func TestSumDaysTakesOutRefundsMadeBeforeTheWindow(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	today := time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC)
	at := func(daysAgo int) int64 { return today.AddDate(0, 0, -daysAgo).Unix() }
	old := "2024-06-20"
	byAccount := map[string][]store.Event{
		"acct_a": {
			{ID: "evt_1", Type: "charge.succeeded", Created: at(45), Object: []byte(`{"id":"ch_1","amount":5000,"currency":"usd"}`)},
			{ID: "evt_2", Type: "charge.refunded", Created: at(40), APIVersion: old, Object: []byte(`{"id":"ch_1","amount":5000,"amount_refunded":1000,"currency":"usd"}`)},
			{ID: "evt_3", Type: "charge.refunded", Created: at(5), APIVersion: old, Object: []byte(`{"id":"ch_1","amount":5000,"amount_refunded":3000,"currency":"usd"}`)},
			// Sold before the window, first refunded within it.
			{ID: "evt_4", Type: "charge.succeeded", Created: at(35), Object: []byte(`{"id":"ch_2","amount":700,"currency":"usd"}`)},
			{ID: "evt_5", Type: "charge.refunded", Created: at(3), APIVersion: old, Object: []byte(`{"id":"ch_2","amount":700,"amount_refunded":700,"currency":"usd"}`)},
		},
		// No earlier history here: the total is all that is known.
		"acct_b": {
			{ID: "evt_9", Type: "charge.refunded", Created: at(2), APIVersion: old, Object: []byte(`{"id":"ch_9","amount":900,"amount_refunded":400,"currency":"usd"}`)},
		},
	}
	for id, evs := range byAccount {
		if err := s.SaveAccount(ctx, accounts.Account{ID: id}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Ingest(ctx, id, evs, nil, false); err != nil {
			t.Fatal(err)
		}
	}
	d, err := SumDays(ctx, s, nil, today, 30)
	if err != nil {
		t.Fatal(err)
	}
	usd := d.Net["usd"]
	if usd[29-5] != -2000 || usd[29-3] != -700 || usd[29-2] != -400 || d.Total("usd", 30) != -3100 {
		t.Fatalf("refunds by day: 5 days ago %d (want -2000), 3 days ago %d (want -700), 2 days ago %d (want -400); 30 days %d",
			usd[29-5], usd[29-3], usd[29-2], d.Total("usd", 30))
	}
}

// A sale whose balance transaction is not listed yet is counted as not
// settled, not guessed; an account never listed (no permission yet) has
// nothing pending; a balance transaction counts on its own day.
func TestPayoutCountsUnsettledSales(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	today := time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC)
	at := func(daysAgo int) int64 { return today.AddDate(0, 0, -daysAgo).Unix() }
	sale := func(id, charge string, daysAgo int) store.Event {
		return store.Event{ID: id, Type: "charge.succeeded", Created: at(daysAgo),
			Object: []byte(`{"id":"` + charge + `","amount":5000,"currency":"eur","captured":true}`)}
	}
	for id, evs := range map[string][]store.Event{
		"acct_a": {sale("evt_1", "ch_1", 3), sale("evt_2", "ch_2", 0), sale("evt_3", "ch_3", 0)},
		"acct_b": {sale("evt_9", "ch_9", 0)},
	} {
		if err := s.SaveAccount(ctx, accounts.Account{ID: id}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Ingest(ctx, id, evs, nil, false); err != nil {
			t.Fatal(err)
		}
	}
	txns := []store.Balance{
		{ID: "txn_1", Created: at(3), Currency: "usd", Fee: 187, Net: 5213, Category: "charge", Source: "ch_1"},
		{ID: "txn_2", Created: at(0), Currency: "usd", Fee: 187, Net: 5213, Category: "charge", Source: "ch_2"},
	}
	if err := s.PutBalances(ctx, "acct_a", txns, today); err != nil {
		t.Fatal(err)
	}
	d, err := History{Store: s}.SumDays(ctx, nil, today, 30)
	if err != nil {
		t.Fatal(err)
	}
	if net, pending := d.PayoutTotal(1); net["usd"] != 5213 || pending != 1 {
		t.Fatalf("today: net %v, %d pending; want $52.13 and ch_3 pending", net, pending)
	}
	if net, pending := d.PayoutTotal(7); net["usd"] != 2*5213 || pending != 1 || len(net) != 1 {
		t.Fatalf("7 days: net %v, %d pending", net, pending)
	}
}

// openStore opens a new store file, closed when the test ends.
func openStore(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(filepath.Join(t.TempDir(), "cashbell.db"), store.OpenOptions{Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Seeing one account's failed payments in Activity clears only that
// account's; seeing every kind in every account clears all.
func TestUnseenByAccountAndKind(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	now := time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC)
	failed := func(id string) store.Event {
		return store.Event{ID: "evt_" + id, Type: "charge.failed", Created: now.Unix() - 60,
			Object: []byte(`{"id":"ch_` + id + `","amount":900,"currency":"usd"}`)}
	}
	for _, id := range []string{"acct_a", "acct_b"} {
		if err := s.SaveAccount(ctx, accounts.Account{ID: id}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Ingest(ctx, id, []store.Event{failed(id)}, nil, true); err != nil {
			t.Fatal(err)
		}
	}
	h := History{Store: s}
	see := func(account string, kinds ...string) Unseen {
		t.Helper()
		set, _ := s.Settings(ctx)
		set.MarkSeen(now.Unix(), account, kinds...)
		if err := s.SaveSettings(ctx, set); err != nil {
			t.Fatal(err)
		}
		u, err := h.Unseen(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	if u := see("acct_a", KindFailedPayment); u["acct_a"][KindFailedPayment] != 0 || u["acct_b"][KindFailedPayment] != 1 {
		t.Fatalf("after seeing acct_a's failed payments: %v", u)
	}
	if u := see("acct_b"); len(u["acct_b"]) != 0 {
		t.Fatalf("after seeing all of acct_b: %v", u)
	}
	if u := see(""); len(u) != 0 {
		t.Fatalf("after seeing everything: %v", u)
	}
}
