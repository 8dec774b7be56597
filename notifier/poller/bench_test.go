package poller_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cashbell/cashbell/accounts"
	"github.com/cashbell/cashbell/internal/stripesim"
	"github.com/cashbell/cashbell/internal/testsupport/fakestripe"
	"github.com/cashbell/cashbell/internal/testsupport/testproc"
	"github.com/cashbell/cashbell/notifier"
	"github.com/cashbell/cashbell/notifier/poller"
	"github.com/cashbell/cashbell/notifier/store"
)

func BenchmarkRequestsPerIdlePoll(b *testing.B) {
	w := newWorld(b, stripesim.AllPermissions)
	ctx := context.Background()
	_ = w.svc.Poll(ctx, w.acct.ID)
	for range 30 {
		w.gen.Random()
	}
	_ = w.svc.Poll(ctx, w.acct.ID)
	before := w.sim.Requests()
	polls := 20
	b.ResetTimer()
	for range polls {
		if err := w.svc.Poll(ctx, w.acct.ID); err != nil {
			b.Fatal(err)
		}
	}
	perPoll := float64(w.sim.Requests()-before) / float64(polls)
	b.ReportMetric(perPoll, "requests/idle-poll")
	fmt.Printf("requests per idle poll: %.2f (one account)\n", perPoll)
}

func BenchmarkNotificationLatency(b *testing.B) {
	interval := 250 * time.Millisecond
	w := newWorld(b, stripesim.AllPermissions, func(o *poller.Options) { o.Interval = interval })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = w.svc.Run(ctx); close(done) }()
	defer func() { cancel(); testproc.Within(b, done, 10*time.Second, "the pollers stopping") }()
	for {
		st, _ := w.store.State(ctx, w.acct.ID)
		if st.Initialized {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	money := notifier.NewMoney("en-US")
	var lat []time.Duration
	for i := range 40 {
		quiet := len(bus.Notifications())
		amount := int64(100000 + i)
		start := time.Now()
		w.gen.Sale(stripesim.Sale{Amount: amount, Currency: "usd"})
		want := money.Format(amount, "usd")
		for {
			got := bus.WaitFor(quiet+1, 5*time.Second)
			if len(got) > quiet && strings.Contains(got[len(got)-1].Summary+" "+got[len(got)-1].Body, want) {
				lat = append(lat, time.Since(start))
				break
			}
			if time.Since(start) > 5*time.Second {
				b.Fatalf("no notification for %s (the bus has %d; the last: %+v)", want, len(bus.Notifications()), bus.Notifications()[max(0, len(bus.Notifications())-1):])
			}
		}
		// Events come at any moment of the poll cycle.
		time.Sleep(time.Duration(i*37%250) * time.Millisecond)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
	b.ReportMetric(float64(p50.Milliseconds()), "p50-ms")
	b.ReportMetric(float64(p99.Milliseconds()), "p99-ms")
	fmt.Printf("latency from event creation to notification on the bus at a %s interval: p50 %s, p99 %s (%d events; at the default 15s interval expect about half the interval more)\n",
		interval, p50.Round(time.Millisecond), p99.Round(time.Millisecond), len(lat))
}

func BenchmarkIngest10000Events(b *testing.B) {
	// As a key that reads everything (the poll also lists the sales'
	// balance transactions, for the net), and without balance
	// transactions, for the events alone. Each three times, for the
	// median: this machine's neighbours move a single run by a fifth.
	// Each run is a sub-benchmark, so that its simulator (70 MB of live
	// heap for 10,000 sales, which Stripe keeps, not Cashbell) is gone
	// before the next: left alive, each made the next one's collections
	// longer.
	var perms []string
	for _, p := range stripesim.AllPermissions {
		if p != stripesim.PermBalanceTransactionRead {
			perms = append(perms, p)
		}
	}
	var all, alone []time.Duration
	var perEvent, eventsAlone float64
	for i := range 3 {
		b.Run(fmt.Sprintf("with-balances-%d", i), func(b *testing.B) {
			d, size := ingest10000(b, stripesim.AllPermissions)
			all, perEvent = append(all, d), max(perEvent, size)
			b.ReportMetric(d.Seconds(), "s/10k-events")
			b.ReportMetric(size, "disk-bytes/event")
		})
		b.Run(fmt.Sprintf("events-alone-%d", i), func(b *testing.B) {
			d, size := ingest10000(b, perms)
			alone, eventsAlone = append(alone, d), max(eventsAlone, size)
			b.ReportMetric(d.Seconds(), "s/10k-events")
			b.ReportMetric(size, "disk-bytes/event")
		})
	}
	slices.Sort(all)
	slices.Sort(alone)
	fmt.Printf("ingest 10,000 events (100 pages from the simulator, stored and grouped, and their 10,000 balance transactions listed): median %s of 3 (%s–%s; budget 1s); without the balance transactions %s (%s–%s)\n",
		all[1].Round(time.Millisecond), all[0].Round(time.Millisecond), all[2].Round(time.Millisecond),
		alone[1].Round(time.Millisecond), alone[0].Round(time.Millisecond), alone[2].Round(time.Millisecond))
	fmt.Printf("store per event, the largest of 3: %.0f bytes on disk for the event alone (budget 500), %.0f with its balance transaction\n", eventsAlone, perEvent)
}

// ingest10000 polls 10,000 new sales in as a key with perms, and returns
// how long the poll took and the store's disk use per event.
func ingest10000(b *testing.B, perms []string) (time.Duration, float64) {
	b.StopTimer()
	w := newWorld(b, perms)
	ctx := context.Background()
	_ = w.svc.Poll(ctx, w.acct.ID)
	for range 10000 {
		w.gen.Sale(w.gen.RandomSale())
	}
	runtime.GC() // the simulator's garbage from making the sales is not the ingest's
	b.StartTimer()
	start := time.Now()
	if err := w.svc.Poll(ctx, w.acct.ID); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	n, _ := w.store.Count(ctx, w.acct.ID)
	if n != 10000 {
		b.Fatalf("stored %d", n)
	}
	// bbolt sizes its file in powers of two below 1 GiB; the part past its
	// last page is a hole that takes no disk space, so the disk space used is
	// what the store costs.
	info, _ := os.Stat(w.store.Path())
	return elapsed, float64(diskUse(info)) / float64(n)
}

func BenchmarkOpenStoreOf100000AndReadLatest50(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "cashbell.db")
	s, err := store.Open(path, store.OpenOptions{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	// Realistic events: a charge object as the simulator writes it.
	sim := fakestripe.New(stripesim.Options{}).Start()
	defer sim.Close()
	acct := sim.CreateAccount(stripesim.AccountSpec{})
	gen := sim.Generator(acct, false, 1)
	gen.Sale(stripesim.Sale{Amount: 4900, Currency: "usd", Email: "jane@example.com", Country: "FR", Product: "Pro plan"})
	conn, _ := accounts.NewConnector(sim.URL)
	key, _ := accounts.ParseKey(sim.NewKey(acct, false, stripesim.Secret))
	c := conn.Client(key)
	ev, err := c.Events.Get(sim.EventIDs(acct, false)[0], nil)
	if err != nil {
		b.Fatal(err)
	}
	object, _ := json.Marshal(ev.Data.Object) // compact, as the poller stores it
	for _, id := range []string{"a", "b", "c", "d"} {
		if err := s.SaveAccount(ctx, accounts.Account{ID: id}); err != nil {
			b.Fatal(err)
		}
	}
	base := time.Now().Add(-29 * 24 * time.Hour).Unix()
	for batch := range 100 {
		evs := make([]store.Event, 1000)
		for i := range evs {
			n := batch*1000 + i
			evs[i] = store.Event{ID: fmt.Sprintf("evt_1%023d", n), Type: "charge.succeeded", Created: base + int64(n*25), Object: object}
		}
		if _, err := s.Ingest(ctx, []string{"a", "b", "c", "d"}[batch%4], evs, nil, false); err != nil {
			b.Fatal(err)
		}
	}
	s.Close()
	info, _ := os.Stat(path)
	b.ResetTimer()
	start := time.Now()
	s, err = store.Open(path, store.OpenOptions{})
	if err != nil {
		b.Fatal(err)
	}
	opened := time.Since(start)
	page, _, err := s.Page(ctx, store.Query{Limit: 50})
	total := time.Since(start)
	b.StopTimer()
	s.Close()
	if err != nil || len(page) != 50 {
		b.Fatalf("%d events, %v", len(page), err)
	}
	b.ReportMetric(float64(total.Microseconds())/1000, "ms-open+latest50")
	fmt.Printf("open a store of 100,000 events (%.0f MB) and read the latest 50 across 4 accounts: %s (open %s)\n",
		float64(info.Size())/1e6, total.Round(10*time.Microsecond), opened.Round(10*time.Microsecond))
}
