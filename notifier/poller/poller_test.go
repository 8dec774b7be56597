package poller_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cashbell/cashbell/accounts"
	"github.com/cashbell/cashbell/internal/stripesim"
	"github.com/cashbell/cashbell/internal/testsupport/fakestripe"
	"github.com/cashbell/cashbell/internal/testsupport/testbus"
	"github.com/cashbell/cashbell/internal/testsupport/testclock"
	"github.com/cashbell/cashbell/internal/testsupport/testproc"
	"github.com/cashbell/cashbell/internal/testsupport/testworld"
	"github.com/cashbell/cashbell/notifier"
	"github.com/cashbell/cashbell/notifier/desktop"
	"github.com/cashbell/cashbell/notifier/poller"
	"github.com/cashbell/cashbell/notifier/store"
)

var bus *testbus.Bus

func TestMain(m *testing.M) { testbus.Main(m, "notifier tests", &bus) }

type world struct {
	sim   *fakestripe.Stripe
	store *store.Store
	reg   *accounts.Registry
	svc   *poller.Service
	gen   *stripesim.Generator
	acct  accounts.Account
	dir   string
	// offset is how far the service's clock runs ahead of the simulator's.
	offset  atomic.Int64
	desktop *desktop.Desktop
}

// apart moves the service's clock on past a burst, so that what happens
// next is told on its own, as if minutes later.
func (w *world) apart() { w.offset.Add(int64(poller.BurstWindow + time.Second)) }

type option func(*poller.Options)

func newWorld(t testing.TB, perms []string, opts ...option) *world {
	return newWorldWith(t, stripesim.Options{}, perms, opts...)
}

// newWorldWith is newWorld with the simulator's options, such as its clock.
func newWorldWith(t testing.TB, simOpts stripesim.Options, perms []string, opts ...option) *world {
	return newWorldAt(t, simOpts, stripesim.AccountSpec{DisplayName: "Acme"}, perms, opts...)
}

// newWorldAt is newWorld for an account of a given spec, such as its API version.
func newWorldAt(t testing.TB, simOpts stripesim.Options, spec stripesim.AccountSpec, perms []string, opts ...option) *world {
	t.Helper()
	quiet()
	bus.Fail(false)
	tw := testworld.NewWith(t, simOpts)
	sim, store, reg, dir := tw.Sim, tw.Store, tw.Reg, tw.Dir
	id := sim.CreateAccount(spec)
	key, _ := accounts.ParseKey(sim.NewKey(id, false, stripesim.Restricted, perms...))
	res, err := reg.Add(context.Background(), accounts.AddRequest{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{sim: sim, store: store, reg: reg, gen: sim.Generator(id, false, 42), acct: res.Account, dir: dir}
	w.desktop = desktop.New()
	w.desktop.SoundFile = "/usr/share/sounds/cashbell-bell.wav"
	o := poller.Options{Store: store, Accounts: reg, Sink: w.desktop, Money: notifier.NewMoney("en-US"),
		Now:  func() time.Time { return time.Now().Add(time.Duration(w.offset.Load())) },
		Icon: "/usr/share/icons/cashbell.png", AlertIcon: "/usr/share/icons/cashbell-alert.png", InitialBackoff: 5 * time.Millisecond, MaxBackoff: 40 * time.Millisecond,
		Interval: 20 * time.Millisecond}
	for _, f := range opts {
		f(&o)
	}
	w.svc = poller.New(o)
	return w
}

// run runs the service until the test ends or stop is called, and waits
// for the account's first import.
func (w *world) run(t *testing.T) (ctx context.Context, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = w.svc.Run(ctx); close(done) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			testproc.Within(t, done, 10*time.Second, "the pollers stopping")
		})
	}
	t.Cleanup(stop)
	waitFor(t, func() bool { st, _ := w.store.State(ctx, w.acct.ID); return st.Initialized })
	return ctx, stop
}

func (w *world) poll(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.svc.Poll(ctx, w.acct.ID); err != nil {
		t.Fatalf("poll: %v", err)
	}
}

// quiet waits until notifications from earlier tests stop arriving, then
// forgets them.
func quiet() {
	for n := -1; n != len(bus.Notifications()); {
		n = len(bus.Notifications())
		time.Sleep(50 * time.Millisecond)
	}
	bus.Reset()
}

// settle waits a moment for notifications that are still on their way.
func settle(n int) []testbus.Notification { return bus.WaitFor(n, 3*time.Second) }

// Stripe lists 30 days of events and the month's chart is drawn from the
// store, so a first import goes on past its first 50 to the whole month,
// silently; a refill cut short resumes where it was, and a sale made
// meanwhile still rings.
func TestTheFirstImportFillsTheMonth(t *testing.T) {
	w := newWorld(t, stripesim.AllPermissions)
	ctx := context.Background()
	now := time.Now()
	for _, day := range append(days(29, 1), days(40, 31)...) {
		for hour := range 4 {
			w.gen.At(now.AddDate(0, 0, -day).Add(time.Duration(hour) * time.Hour)).Sale(stripesim.Sale{Amount: 1000, Currency: "usd"})
		}
	}
	// The first page comes; the refill's second page does not.
	w.sim.Inject(fakestripe.Fault{Kind: fakestripe.ServerError, Path: "/v1/events", After: 2})
	if err := w.svc.Poll(ctx, w.acct.ID); err == nil {
		t.Fatal("a poll whose refill failed reported no error")
	}
	if n, _ := w.store.Count(ctx, w.acct.ID); n <= poller.FirstImport {
		t.Fatalf("stored %d before the refill failed, want the first %d and a page more", n, poller.FirstImport)
	}
	w.gen.Sale(stripesim.Sale{Amount: 4900, Currency: "usd", Email: "new@example.com"})
	w.poll(t)
	sums, err := notifier.SumDays(ctx, w.store, []string{w.acct.ID}, now, 30)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sums.Total("usd", 30), int64(29*4*1000+4900); got != want {
		t.Errorf("30 days of sales: %d cents, want %d (29 days of 4 $10 sales and today's $49)", got, want)
	}
	got := settle(1)
	if len(got) != 1 || !strings.Contains(got[0].Summary, "$49.00") {
		t.Fatalf("notifications %+v, want one, for the $49.00 sale made during the refill", got)
	}
	if st, _ := w.store.State(ctx, w.acct.ID); st.Rebuild || !st.Initialized {
		t.Errorf("state after the refill: %+v", st)
	}
}

// days counts from one day down to another.
func days(from, to int) []int {
	var ds []int
	for d := from; d >= to; d-- {
		ds = append(ds, d)
	}
	return ds
}

func TestFirstImportIsSilentThenEverySaleRings(t *testing.T) {
	w := newWorld(t, stripesim.AllPermissions)
	for range 60 {
		w.gen.Sale(w.gen.RandomSale())
	}
	w.poll(t)
	// The last 50, and the rest of the look-back window (all 60 are seconds old).
	if n, _ := w.store.Count(context.Background(), w.acct.ID); n != 60 {
		t.Fatalf("first import stored %d, want 60", n)
	}
	time.Sleep(100 * time.Millisecond)
	if got := bus.Notifications(); len(got) != 0 {
		t.Fatalf("first import notified: %+v", got)
	}

	// Each sale is told as it comes, and while they keep coming the one
	// notification grows in place (replaces_id) instead of stacking.
	sales := []struct {
		sale        stripesim.Sale
		title, body string
	}{
		{stripesim.Sale{Amount: 4900, Currency: "usd", Email: "jane@example.com", Country: "FR", Product: "Pro plan"},
			"New sale · $49.00 — Acme", "from jane@example.com (FR) · Pro plan · net $47.28"},
		{stripesim.Sale{Amount: 500, Currency: "jpy", Email: "kenji@example.com", Country: "JP"},
			"2 sales — Acme", "2 sales: $49.00 + ¥500\nLatest: New sale · ¥500 · from kenji@example.com (JP) · net $2.96"},
		{stripesim.Sale{Amount: 1250, Currency: "kwd", Guest: true},
			"3 sales — Acme", "3 sales: $49.00 + KWD\u00a01.250 + 1 more\nLatest: New sale · KWD\u00a01.250 · net $3.65"},
	}
	for i, s := range sales {
		w.gen.Sale(s.sale)
		w.poll(t)
		got := settle(i + 1)
		if len(got) != i+1 {
			t.Fatalf("%d notifications, want %d: %+v", len(got), i+1, got)
		}
		n := got[i]
		if n.Summary != s.title || n.Body != s.body || n.AppName != "Cashbell" || n.Icon != "/usr/share/icons/cashbell.png" {
			t.Errorf("sale %d: %q / %q (app %q, icon %q), want %q / %q", i, n.Summary, n.Body, n.AppName, n.Icon, s.title, s.body)
		}
		if i > 0 && n.Replaces != got[0].ID || n.Urgency() != 1 {
			t.Errorf("sale %d replaces %d (first was %d), urgency %d", i, n.Replaces, got[0].ID, n.Urgency())
		}
	}
	if on := bus.OnScreen(); len(on) != 1 {
		t.Fatalf("%d notifications on screen for three sales, want one", len(on))
	}
	w.poll(t)
	time.Sleep(100 * time.Millisecond)
	if n := len(bus.Notifications()); n != 3 {
		t.Fatalf("an idle poll notified again: %d", n)
	}
	// Minutes later a sale is news of its own again.
	w.apart()
	w.gen.Sale(stripesim.Sale{Amount: 700, Currency: "usd"})
	w.poll(t)
	if got := settle(4); len(got) != 4 || got[3].Replaces != 0 || got[3].Summary != "New sale · $7.00 — Acme" {
		t.Fatalf("after the burst: %+v", got[len(got)-1])
	}
}

func TestWithoutOptionalPermissionsTheTextIsShorter(t *testing.T) {
	w := newWorld(t, []string{stripesim.PermEventRead})
	w.poll(t)
	w.gen.Sale(stripesim.Sale{Amount: 4900, Currency: "usd", Product: "Pro plan", Email: "jane@example.com"})
	before := w.sim.Requests()
	w.poll(t)
	got := settle(1)
	if len(got) != 1 || !strings.HasPrefix(got[0].Summary, "New sale · $49.00 — ") || got[0].Body != "from jane@example.com" {
		t.Fatalf("%+v", got)
	}
	if n := w.sim.Requests() - before; n != 1 {
		t.Fatalf("%d requests; a key without read permissions should cost only the events read", n)
	}
}

// A burst of 250 sales is one notification; bad news inside it is not
// folded in: each failed payment is its own critical notification, with the
// alert icon, that stays until dismissed.
func TestBurstIsOneNotificationAndBadNewsStandsApart(t *testing.T) {
	w := newWorld(t, stripesim.AllPermissions)
	w.poll(t)
	for i := range 250 {
		cur := "usd"
		if i%5 == 0 {
			cur = "eur"
		}
		w.gen.Sale(stripesim.Sale{Amount: 1000, Currency: cur})
		if i == 100 || i == 200 {
			w.gen.FailedCharge(stripesim.Sale{Amount: 4900, Currency: "usd", Email: "jane@example.com"}, "Your card was declined.")
		}
	}
	w.poll(t)
	settle(2)
	time.Sleep(100 * time.Millisecond) // nothing more should come
	got := bus.Notifications()
	if len(got) != 2 {
		t.Fatalf("%d notifications for a burst of 250 sales and 2 failures, want 2", len(got))
	}
	if n := got[0]; n.Summary != "2 failed payments in 1 min — Acme" || n.Urgency() != 2 || n.Timeout != 0 || n.Icon != "/usr/share/icons/cashbell-alert.png" {
		t.Fatalf("bad news: %q urgency %d timeout %d icon %q", n.Summary, n.Urgency(), n.Timeout, n.Icon)
	}
	last := got[1]
	if last.Summary != "250 sales — Acme" || !strings.HasPrefix(last.Body, "250 sales: $2,000.00 + €500.00\nLatest: New sale · $10.00") || last.Urgency() != 1 {
		t.Fatalf("burst %q / %q", last.Summary, last.Body)
	}
	if n, _ := w.store.Count(context.Background(), w.acct.ID); n != 252 {
		t.Fatalf("stored %d of 252", n)
	}
	marks, _ := w.store.Marks(context.Background(), w.acct.ID)
	counts := map[store.Mark]int{}
	for _, m := range marks {
		counts[m]++
	}
	if counts[store.MarkSummarised] != 252 {
		t.Fatalf("marks %v", counts)
	}
	// An attack of failed card tests is one red notification per kind that
	// counts, updating itself, with the newest in its body; a dispute
	// beside it has its own.
	bus.Reset()
	w.apart()
	for range 8 {
		w.gen.FailedCharge(stripesim.Sale{Amount: 100, Currency: "usd"}, "Your card was declined.")
	}
	_, ch := w.gen.Sale(stripesim.Sale{Amount: 2500, Currency: "usd", Email: "dee@example.com"})
	w.gen.Dispute(ch, "fraudulent")
	w.poll(t)
	got = settle(3) // the failures, the dispute, the sale
	var failures, dispute testbus.Notification
	for _, n := range got {
		switch {
		case strings.Contains(n.Summary, "failed payments"):
			failures = n
		case strings.HasPrefix(n.Summary, "New dispute"):
			dispute = n
		}
	}
	if failures.Summary != "8 failed payments in 1 min — Acme" || failures.Urgency() != 2 || !strings.Contains(failures.Body, "$8.00 in all") ||
		!strings.Contains(failures.Body, "Latest: Payment failed · $1.00") {
		t.Fatalf("the failures: %q / %q (urgency %d)", failures.Summary, failures.Body, failures.Urgency())
	}
	if dispute.Urgency() != 2 || dispute.Replaces != 0 {
		t.Fatalf("the dispute: %+v", dispute)
	}
	bus.Reset()
	for range 3 {
		w.gen.FailedCharge(stripesim.Sale{Amount: 100, Currency: "usd"}, "Your card was declined.")
	}
	w.poll(t)
	got = settle(1)
	if len(got) != 1 || got[0].Replaces != failures.ID || got[0].Summary != "11 failed payments in 1 min — Acme" {
		t.Fatalf("more failures: %+v", got)
	}
}

func TestLateEventsAreCaughtByTheOverlap(t *testing.T) {
	clock := testclock.New(time.Now())
	w := newWorldWith(t, stripesim.Options{Now: clock.Now}, stripesim.AllPermissions)
	w.poll(t)
	// Stripe shows the first event two minutes after the second one.
	late, _ := w.gen.Hidden(2 * time.Minute).Sale(stripesim.Sale{Amount: 100, Currency: "usd"})
	clock.Advance(time.Second)
	w.gen.Sale(stripesim.Sale{Amount: 200, Currency: "usd"})
	w.poll(t)
	if marks, _ := w.store.Marks(context.Background(), w.acct.ID); marks[late] != "" {
		t.Fatal("the late event was listed before Stripe showed it")
	}
	clock.Advance(3 * time.Minute)
	w.poll(t)
	got := settle(2)
	if len(got) != 2 {
		t.Fatalf("%d notifications, want 2", len(got))
	}
	marks, _ := w.store.Marks(context.Background(), w.acct.ID)
	if marks[late] != store.MarkNotified && marks[late] != store.MarkSummarised {
		t.Fatalf("the late event was missed: %v", marks)
	}
}

func TestIdlePollIsOneRequest(t *testing.T) {
	w := newWorld(t, stripesim.AllPermissions)
	w.poll(t)
	for range 20 {
		w.gen.Random()
	}
	w.poll(t)
	before := w.sim.Requests()
	for range 5 {
		w.poll(t)
	}
	if n := w.sim.Requests() - before; n != 5 {
		t.Fatalf("5 idle polls made %d requests", n)
	}
}

func TestFiltersPauseMuteAndMinimum(t *testing.T) {
	w := newWorld(t, stripesim.AllPermissions)
	ctx := context.Background()
	w.poll(t)
	set, _ := w.store.Settings(ctx)
	set.Disabled = map[string]bool{"payout.paid": true}
	set.Minimum = 10000 // 10.00
	if err := w.store.SaveSettings(ctx, set); err != nil {
		t.Fatal(err)
	}
	w.gen.Payout(100000, "usd", false)
	w.gen.Sale(stripesim.Sale{Amount: 999, Currency: "usd"})  // $9.99 < $10
	w.gen.Sale(stripesim.Sale{Amount: 1000, Currency: "usd"}) // $10.00
	w.gen.Sale(stripesim.Sale{Amount: 999, Currency: "jpy"})  // ¥999 ≥ ¥10
	w.poll(t)
	settle(1)
	time.Sleep(50 * time.Millisecond) // nothing more should come
	if got := bus.Notifications(); len(got) != 1 || got[0].Summary != "2 sales — Acme" || !strings.HasPrefix(got[0].Body, "2 sales: $10.00 + ¥999\n") {
		t.Fatalf("filters: %+v", got)
	}

	// Paused, nothing is shown; on resuming, what was held back is told:
	// the good news in one summary, the bad news on its own.
	bus.Reset()
	w.apart()
	set.PausedUntil = time.Now().Add(time.Hour)
	_ = w.store.SaveSettings(ctx, set)
	w.gen.Sale(stripesim.Sale{Amount: 5000, Currency: "usd"})
	w.gen.Sale(stripesim.Sale{Amount: 2500, Currency: "usd"})
	_, ch := w.gen.Sale(stripesim.Sale{Amount: 4900, Currency: "usd"})
	w.gen.Dispute(ch, "fraudulent")
	w.poll(t)
	time.Sleep(100 * time.Millisecond)
	if got := bus.Notifications(); len(got) != 0 {
		t.Fatalf("paused, yet notified: %+v", got)
	}
	set.PausedUntil = time.Time{}
	_ = w.store.SaveSettings(ctx, set)
	w.poll(t)
	got := settle(2)
	var titles []string
	for _, n := range got {
		titles = append(titles, n.Summary)
	}
	slices.Sort(titles)
	if len(titles) != 2 || titles[0] != "New dispute · $49.00 — Acme" || titles[1] != "While paused: 3 sales · $124.00 — Acme" {
		t.Fatalf("after the pause: %q", titles)
	}

	// Muted, nothing is shown, then or later.
	bus.Reset()
	if _, err := w.reg.Update(ctx, w.acct.ID, func(a *accounts.Account) { a.Muted = true }); err != nil {
		t.Fatal(err)
	}
	w.gen.Sale(stripesim.Sale{Amount: 5000, Currency: "usd"})
	w.poll(t)
	if _, err := w.reg.Update(ctx, w.acct.ID, func(a *accounts.Account) { a.Muted = false }); err != nil {
		t.Fatal(err)
	}
	w.poll(t)
	time.Sleep(100 * time.Millisecond)
	if got := bus.Notifications(); len(got) != 0 {
		t.Fatalf("muted, yet notified: %+v", got)
	}
}

func TestStormsBackOffAndLoseNothing(t *testing.T) {
	w := newWorld(t, stripesim.AllPermissions)
	ctx, stop := w.run(t)

	w.sim.Inject(fakestripe.Fault{Kind: fakestripe.RateLimit, Path: "/v1/events", Times: 8})
	var ids []string
	for range 5 {
		id, _ := w.gen.Sale(w.gen.RandomSale())
		ids = append(ids, id)
	}
	w.sim.Inject(fakestripe.Fault{Kind: fakestripe.ServerError, Status: 502, Path: "/v1/events", Times: 6})
	w.sim.Inject(fakestripe.Fault{Kind: fakestripe.Drop, Path: "/v1/events", Times: 2})
	w.sim.Inject(fakestripe.Fault{Kind: fakestripe.BrokenJSON, Path: "/v1/events", Times: 2})
	for range 5 {
		id, _ := w.gen.Sale(w.gen.RandomSale())
		ids = append(ids, id)
	}
	waitFor(t, func() bool { n, _ := w.store.Count(ctx, w.acct.ID); return n == 10 })
	waitFor(t, func() bool { out, _ := w.store.Outbox(ctx, w.acct.ID); return len(out) == 0 })
	waitFor(t, func() bool { a, _ := w.reg.Get(ctx, w.acct.ID); return a.Status == accounts.StatusOK })
	stop()
	marks, _ := w.store.Marks(context.Background(), w.acct.ID)
	for _, id := range ids {
		if marks[id] != store.MarkNotified && marks[id] != store.MarkSummarised {
			t.Errorf("%s handled as %q", id, marks[id])
		}
	}
	notified := 0
	for _, m := range marks {
		if m == store.MarkNotified {
			notified++
		}
	}
	// However the storm split the polls, the ten sales end as one
	// notification that says ten.
	waitFor(t, func() bool {
		on := bus.OnScreen()
		return len(on) == 1 && strings.HasPrefix(on[0].Summary, "10 sales ")
	})
	if notified > 1 {
		t.Fatalf("%d sales told on their own; the rest should join the first", notified)
	}
}

func TestRevokedKeyStopsPollingAndTellsOnce(t *testing.T) {
	w := newWorld(t, stripesim.AllPermissions)
	ctx, stop := w.run(t)
	key, _ := w.reg.Key(w.acct.ID, w.acct.KeyStorage)
	w.sim.RevokeKey(key.Reveal())
	waitFor(t, func() bool { a, _ := w.reg.Get(ctx, w.acct.ID); return a.Status == accounts.StatusKeyRevoked })
	before := w.sim.Requests()
	time.Sleep(200 * time.Millisecond) // ten intervals
	if n := w.sim.Requests() - before; n != 0 {
		t.Fatalf("%d requests after the key was refused", n)
	}
	got := bus.Notifications()
	if len(got) != 1 || !strings.Contains(got[0].Summary, "key stopped working") || !strings.Contains(got[0].Body, w.acct.KeyMasked) {
		t.Fatalf("notifications: %+v", got)
	}
	if strings.Contains(got[0].Body, key.Reveal()) {
		t.Fatal("the notification shows the key")
	}
	w.svc.Reload()
	time.Sleep(100 * time.Millisecond)
	if len(bus.Notifications()) != 1 {
		t.Fatal("told twice")
	}
	// The key works again and is checked in Preferences: polling resumes.
	w.sim.RestoreKey(key.Reveal())
	if _, _, err := w.reg.Recheck(ctx, w.acct.ID); err != nil {
		t.Fatal(err)
	}
	w.svc.Reload()
	w.gen.Sale(stripesim.Sale{Amount: 700, Currency: "usd"})
	waitFor(t, func() bool { n, _ := w.store.Count(ctx, w.acct.ID); return n == 1 })
	stop()
}

func TestCatchUpAfterAStop(t *testing.T) {
	w := newWorld(t, stripesim.AllPermissions)
	w.poll(t)
	// Cashbell is off; forty events happen over the last two days.
	now := time.Now()
	for i := range 40 {
		w.gen.At(now.Add(-48*time.Hour + time.Duration(i)*time.Hour)).Sale(stripesim.Sale{Amount: 100, Currency: "usd"})
	}
	st, _ := w.store.State(context.Background(), w.acct.ID)
	st.NewestCreated = now.Add(-72 * time.Hour).Unix()
	if err := ingestState(w.store, w.acct.ID, st); err != nil {
		t.Fatal(err)
	}
	w.poll(t)
	if n, _ := w.store.Count(context.Background(), w.acct.ID); n != 40 {
		t.Fatalf("caught up %d of 40", n)
	}
	got := settle(1)
	if len(got) != 1 || got[0].Summary != "40 sales · $40.00 — Acme" {
		t.Fatalf("catch-up notifications: %+v", got)
	}
}

func TestRebuildAfterDamageIsSilentAndCovers30Days(t *testing.T) {
	w := newWorld(t, stripesim.AllPermissions)
	now := time.Now()
	w.gen.At(now.Add(-31 * 24 * time.Hour)).Sale(stripesim.Sale{Amount: 100, Currency: "usd"})
	for i := range 120 {
		w.gen.At(now.Add(-29*24*time.Hour + time.Duration(i)*time.Hour)).Sale(stripesim.Sale{Amount: 100, Currency: "usd"})
	}
	if err := ingestState(w.store, w.acct.ID, store.PollState{Rebuild: true}); err != nil {
		t.Fatal(err)
	}
	w.poll(t)
	if n, _ := w.store.Count(context.Background(), w.acct.ID); n != 120 {
		t.Fatalf("rebuilt %d of 120 events", n)
	}
	time.Sleep(100 * time.Millisecond)
	if got := bus.Notifications(); len(got) != 0 {
		t.Fatalf("a rebuild notified: %d", len(got))
	}
}

// A notification service that refuses everything (Wine has none that
// works) loses no event, marks each as told so that nothing is shown late
// or twice, and is said once in the log, not at every poll; its return is
// said too.
func TestNotificationServiceDownLosesNoEvents(t *testing.T) {
	var logs bytes.Buffer
	w := newWorld(t, stripesim.AllPermissions, func(o *poller.Options) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	})
	w.poll(t)
	bus.Fail(true)
	for range 3 {
		w.apart()
		w.gen.Sale(stripesim.Sale{Amount: 100, Currency: "usd"})
		w.poll(t)
	}
	bus.Fail(false)
	if n, _ := w.store.Count(context.Background(), w.acct.ID); n != 3 {
		t.Fatalf("stored %d", n)
	}
	if out, _ := w.store.Outbox(context.Background(), w.acct.ID); len(out) != 0 {
		t.Fatalf("%d events still wait", len(out))
	}
	if n := strings.Count(logs.String(), "notifications cannot be shown"); n != 1 {
		t.Fatalf("said %d times:\n%s", n, logs.String())
	}
	w.apart()
	w.gen.Sale(stripesim.Sale{Amount: 100, Currency: "usd"})
	w.poll(t)
	if !strings.Contains(logs.String(), "notifications are shown again") {
		t.Fatalf("the return is not said:\n%s", logs.String())
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestHugeAndHTMLAnswersAreRefusedAndRetried(t *testing.T) {
	w := newWorld(t, stripesim.AllPermissions)
	w.poll(t)
	w.gen.Sale(stripesim.Sale{Amount: 100, Currency: "usd"})
	ctx := context.Background()
	w.sim.Inject(fakestripe.Fault{Kind: fakestripe.Huge, Path: "/v1/events"})
	start := time.Now()
	err := w.svc.Poll(ctx, w.acct.ID)
	if !errors.Is(err, accounts.ErrResponseTooLarge) || time.Since(start) > 5*time.Second {
		t.Fatalf("50 MB answer: %v after %v", err, time.Since(start))
	}
	w.sim.Inject(fakestripe.Fault{Kind: fakestripe.HTML, Path: "/v1/events"})
	if err := w.svc.Poll(ctx, w.acct.ID); !errors.Is(err, accounts.ErrBadResponse) || !strings.Contains(accounts.Remedy(err), "CASHBELL_API_BASE") {
		t.Fatalf("HTML answer: %v", err)
	}
	w.poll(t)
	if n, _ := w.store.Count(ctx, w.acct.ID); n != 1 {
		t.Fatalf("stored %d after the faults passed", n)
	}
}

func TestNewerAPIFieldsAreKeptAndDoNotBreakTheText(t *testing.T) {
	w := newWorld(t, stripesim.AllPermissions)
	w.poll(t)
	id := w.gen.Raw("charge.succeeded", map[string]any{
		"id": "ch_1Newer", "object": "charge", "amount": int64(4900), "currency": "usd",
		"billing_details":     map[string]any{"email": "jane@example.com", "address": "FR"}, // a string where an object was
		"customer":            map[string]any{"id": "cus_1Expanded", "object": "customer"},  // expanded
		"future_field":        map[string]any{"nested": []any{1, "two", nil}},
		"balance_transaction": 12345, // a number where an id was
	}, nil)
	w.poll(t)
	got := settle(1)
	if len(got) != 1 || got[0].Summary != "New sale · $49.00 — Acme" || !strings.HasPrefix(got[0].Body, "from jane@example.com") {
		t.Fatalf("%+v", got)
	}
	evs, _, _ := w.store.Page(context.Background(), store.Query{Accounts: []string{w.acct.ID}, Limit: 1})
	if len(evs) != 1 || evs[0].ID != id || !strings.Contains(string(evs[0].Object), "future_field") {
		t.Fatalf("stored %+v", evs)
	}
	// A type Cashbell does not know is stored but never notified.
	unknown := store.Event{ID: "evt_new", Type: "charge.teleported", Object: []byte(`{"amount":1}`)}
	if notifier.Decode(unknown, notifier.Source{}).Notifies() {
		t.Fatal("an unknown type notifies")
	}
}

// A page that says there is more but repeats itself stops the poll with a
// clear error after two requests, instead of asking for ever.
func TestACursorThatDoesNotMoveIsDetected(t *testing.T) {
	w := newWorld(t, stripesim.AllPermissions, func(o *poller.Options) { o.InitialBackoff, o.MaxBackoff = 100*time.Millisecond, 200*time.Millisecond })
	w.poll(t)
	for range 120 {
		w.gen.Sale(stripesim.Sale{Amount: 100, Currency: "usd"})
	}
	w.sim.Inject(fakestripe.Fault{Kind: fakestripe.RepeatPage, Path: "/v1/events", Times: -1})
	before := w.sim.RequestsTo("/v1/events")
	err := w.svc.Poll(context.Background(), w.acct.ID)
	if !errors.Is(err, poller.ErrCursorStuck) {
		t.Fatalf("poll: %v, want ErrCursorStuck", err)
	}
	if n := w.sim.RequestsTo("/v1/events") - before; n != 2 {
		t.Fatalf("%d requests for a stuck cursor, want 2", n)
	}
	// Run backs off: over half a second a handful of tries (without the
	// check, one poll would page on for a thousand requests).
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	before = w.sim.RequestsTo("/v1/events")
	_ = w.svc.Run(ctx)
	if n := w.sim.RequestsTo("/v1/events") - before; n > 12 {
		t.Fatalf("%d requests in 0.5 s with a stuck cursor: not backing off", n)
	}
	w.sim.ClearFaults()
	w.poll(t)
	if n, _ := w.store.Count(context.Background(), w.acct.ID); n != 120 {
		t.Fatalf("stored %d of 120 once the cursor moved again", n)
	}
}

// An event of many megabytes is stored trimmed to its small fields, and its
// text stays short.
func TestAHugeEventIsTrimmed(t *testing.T) {
	w := newWorld(t, stripesim.AllPermissions)
	w.poll(t)
	huge := strings.Repeat("spam ", 2<<20) // 10 MB
	id := w.gen.Raw("charge.succeeded", map[string]any{
		"id": "ch_1Huge", "object": "charge", "amount": int64(7404), "currency": "usd",
		"description": huge, "metadata": map[string]any{"blob": huge[:1<<20]},
		"billing_details": map[string]any{"email": "jane@example.com"},
	}, nil)
	w.poll(t)
	evs, _, _ := w.store.Page(context.Background(), store.Query{Accounts: []string{w.acct.ID}, Limit: 1})
	if len(evs) != 1 || evs[0].ID != id {
		t.Fatalf("stored %+v", evs)
	}
	if n := len(evs[0].Object); n > poller.MaxEventObject {
		t.Fatalf("stored object of %d bytes", n)
	}
	got := settle(1)
	if len(got) != 1 || got[0].Summary != "New sale · $74.04 — Acme" || !strings.HasPrefix(got[0].Body, "from jane@example.com") || len(got[0].Body) > 1000 {
		t.Fatalf("notification: %d notifications, body of %d bytes", len(got), len(got[0].Body))
	}
}

// Text a customer wrote reaches the notification as plain text: markup
// escaped for a server that reads markup, no control or bidirectional
// characters, no line breaks, and short.
func TestCustomerTextArrivesAsPlainText(t *testing.T) {
	bus.SetCapabilities([]string{"body", "body-markup", "body-hyperlinks", "body-images", "actions"})
	defer bus.SetCapabilities(nil)
	w := newWorld(t, stripesim.AllPermissions)
	w.poll(t)
	evil := "<b>x</b> <a href=\"http://evil.example/\">click</a> <img src=\"file:///etc/passwd\"> Fish & Chips\u202Egnp.exe\nsecond line\x1b[2J" + strings.Repeat("!", 10<<10)
	w.gen.Sale(stripesim.Sale{Amount: 7404, Currency: "usd", Email: "jane@example.com", Description: evil})
	w.poll(t)
	got := settle(1)
	if len(got) != 1 {
		t.Fatalf("%d notifications", len(got))
	}
	body := got[0].Body
	for _, bad := range []string{"<b>", "<a ", "<img", "\u202E", "\n", "\x1b", " & "} {
		if strings.Contains(body, bad) {
			t.Errorf("body carries %q: %q", bad, body)
		}
	}
	if !strings.Contains(body, "&lt;b&gt;x&lt;/b&gt;") || !strings.Contains(body, "Fish &amp; Chips") || len(body) > 600 {
		t.Fatalf("body: %q", body)
	}
	// A server without body markup gets the same text, unescaped.
	bus.SetCapabilities([]string{"body", "actions"})
	w2 := newWorld(t, stripesim.AllPermissions)
	w2.poll(t)
	w2.gen.Sale(stripesim.Sale{Amount: 100, Currency: "usd", Description: "Fish & Chips\u202E"})
	w2.poll(t)
	if got := settle(1); len(got) != 1 || !strings.HasPrefix(got[0].Body, "Fish & Chips · ") {
		t.Fatalf("plain server: %+v", got)
	}
}

// A key that loses the permission to read events while in use stops polling
// like a refused key, says once which permission Stripe now asks for, and
// resumes once the permission is back and the key is checked again.
func TestAKeyThatLosesAPermissionStopsAndSaysWhich(t *testing.T) {
	w := newWorld(t, stripesim.AllPermissions)
	ctx, stop := w.run(t)
	key, _ := w.reg.Key(w.acct.ID, w.acct.KeyStorage)
	var rest []string
	for _, p := range stripesim.AllPermissions {
		if p != stripesim.PermEventRead {
			rest = append(rest, p)
		}
	}
	w.sim.SetPermissions(key.Reveal(), rest...)
	waitFor(t, func() bool { a, _ := w.reg.Get(ctx, w.acct.ID); return a.Status == accounts.StatusPermissionLost })
	before := w.sim.Requests()
	w.svc.Reload()
	time.Sleep(100 * time.Millisecond) // five intervals
	if n := w.sim.Requests() - before; n != 0 {
		t.Fatalf("%d requests after the permission was lost", n)
	}
	got := bus.Notifications()
	if len(got) != 1 || !strings.Contains(got[0].Body, "rak_event_read") || !strings.Contains(got[0].Summary, "stopped showing events") {
		t.Fatalf("notifications: %+v", got)
	}
	if a, _ := w.reg.Get(ctx, w.acct.ID); !slices.Contains(a.Missing, "rak_event_read") {
		t.Fatalf("the account does not say what is missing: %+v", a.Missing)
	}
	// Checked again while still without it: still stopped, not told twice.
	if _, _, err := w.reg.Recheck(ctx, w.acct.ID); err != nil {
		t.Fatal(err)
	}
	w.svc.Reload()
	time.Sleep(60 * time.Millisecond)
	if a, _ := w.reg.Get(ctx, w.acct.ID); a.Status != accounts.StatusPermissionLost || len(bus.Notifications()) != 1 {
		t.Fatalf("after a re-check without the permission: %s, %d notifications", a.Status, len(bus.Notifications()))
	}
	w.sim.SetPermissions(key.Reveal(), stripesim.AllPermissions...)
	if _, _, err := w.reg.Recheck(ctx, w.acct.ID); err != nil {
		t.Fatal(err)
	}
	w.svc.Reload()
	w.gen.Sale(stripesim.Sale{Amount: 700, Currency: "usd"})
	waitFor(t, func() bool { n, _ := w.store.Count(ctx, w.acct.ID); return n == 1 })
	stop()
}

// A payout is money leaving for the bank: it runs in a notification of
// its own, not folded into the sales.
func TestPayoutsRunApartFromSales(t *testing.T) {
	w := newWorld(t, stripesim.AllPermissions)
	w.poll(t)
	for range 3 {
		w.gen.Sale(stripesim.Sale{Amount: 1000, Currency: "usd"})
	}
	w.gen.Payout(50000, "usd", false)
	w.poll(t)
	got := settle(2)
	var titles []string
	for _, n := range got {
		titles = append(titles, n.Summary)
	}
	slices.Sort(titles)
	if len(titles) != 2 || titles[0] != "3 sales · $30.00 — Acme" || titles[1] != "Payout paid · $500.00 — Acme" {
		t.Fatalf("notifications %q", titles)
	}
}

// The morning summary comes once a day at its time: yesterday's sales and
// refunds, their net after Stripe's fees, how MRR moved, the disputes
// opened and the payouts, and the best day of the month when yesterday was
// it.
func TestMorningSummary(t *testing.T) {
	w := newWorld(t, stripesim.AllPermissions)
	w.poll(t)
	ctx := context.Background()
	now := time.Now()
	y, m, d := now.Date()
	morning := time.Date(y, m, d, 9, 30, 0, 0, time.Local)
	w.offset.Store(int64(morning.Sub(now)))
	at := time.Date(y, m, d-1, 14, 0, 0, 0, time.Local).Unix()
	evs := []store.Event{
		{ID: "evt_d1", Type: "charge.succeeded", Created: at, Object: []byte(`{"id":"ch_d1","amount":4900,"currency":"usd"}`)},
		{ID: "evt_d2", Type: "charge.succeeded", Created: at + 60, Object: []byte(`{"id":"ch_d2","amount":1000,"currency":"usd"}`)},
		{ID: "evt_d3", Type: "refund.created", Created: at + 120, Object: []byte(`{"id":"re_d1","object":"refund","amount":1000,"currency":"usd","charge":"ch_d2"}`)},
		{ID: "evt_d4", Type: "charge.dispute.created", Created: at + 180, Object: []byte(`{"id":"dp_d1","amount":4900,"currency":"usd","charge":"ch_d1","status":"needs_response"}`)},
		{ID: "evt_d5", Type: "payout.paid", Created: at + 240, Object: []byte(`{"id":"po_d1","amount":100000,"currency":"usd"}`)},
		// MRR: a $49 plan new, a $9 plan gone.
		{ID: "evt_d6", Type: "customer.subscription.created", Created: at + 300, Object: []byte(`{"id":"sub_d1","customer":"cus_1","status":"active",` +
			`"items":{"data":[{"quantity":1,"price":{"unit_amount":4900,"currency":"usd","recurring":{"interval":"month","interval_count":1}}}]}}`)},
		{ID: "evt_d7", Type: "customer.subscription.deleted", Created: at + 360, Object: []byte(`{"id":"sub_d2","customer":"cus_2","status":"canceled",` +
			`"items":{"data":[{"quantity":1,"price":{"unit_amount":900,"currency":"usd","recurring":{"interval":"month","interval_count":1}}}]}}`)},
	}
	if _, err := w.store.Ingest(ctx, w.acct.ID, evs, nil, false); err != nil {
		t.Fatal(err)
	}
	// What Stripe's balance transactions say the day moved after fees: the
	// sales less their fees, the refund, and the dispute with its fee.
	txns := []store.Balance{
		{ID: "txn_d1", Created: at, Currency: "usd", Net: 4728, Category: "charge", Source: "ch_d1"},
		{ID: "txn_d2", Created: at + 60, Currency: "usd", Net: 941, Category: "charge", Source: "ch_d2"},
		{ID: "txn_d3", Created: at + 120, Currency: "usd", Net: -1000, Category: "refund", Source: "re_d1"},
		{ID: "txn_d4", Created: at + 180, Currency: "usd", Net: -6400, Category: "dispute", Source: "dp_d1"},
	}
	if err := w.store.PutBalances(ctx, w.acct.ID, txns, time.Time{}); err != nil {
		t.Fatal(err)
	}
	// A new store's first day has no summary: nothing was missed yet.
	bus.Reset()
	if sent, err := w.svc.Digest(ctx); sent || err != nil {
		t.Fatalf("first day: sent %v, %v", sent, err)
	}
	if err := w.store.MarkDigest(ctx, morning.AddDate(0, 0, -1).Format(time.DateOnly)); err != nil {
		t.Fatal(err)
	}
	if sent, err := w.svc.Digest(ctx); !sent || err != nil {
		t.Fatalf("sent %v, %v", sent, err)
	}
	n := settle(1)[0]
	if n.Summary != "Yesterday: sales $59.00 · refunds \u2212$10.00" || !strings.Contains(n.Body, "1 dispute opened") ||
		!strings.Contains(n.Body, "payouts $1,000.00") || !strings.Contains(n.Body, "your best day in 30 days") ||
		!strings.Contains(n.Body, "net \u2212$17.31 after fees") || !strings.Contains(n.Body, "MRR +$40.00 (new +$49.00, churn \u2212$9.00)") {
		t.Fatalf("summary %q / %q", n.Summary, n.Body)
	}
	// Once: a second look, or a restart, sends nothing more.
	if sent, _ := w.svc.Digest(ctx); sent {
		t.Fatal("sent twice")
	}
	// Before its time, nothing.
	set, _ := w.store.Settings(ctx)
	set.DigestAt = "23:59"
	_ = w.store.SaveSettings(ctx, set)
	_ = w.store.MarkDigest(ctx, "2000-01-01")
	if sent, _ := w.svc.Digest(ctx); sent && morning.Hour() < 23 {
		t.Fatal("sent before its time")
	}
}

// ingestState writes an account's poll state on its own, as a poll that
// found nothing new does.
func ingestState(s *store.Store, account string, st store.PollState) error {
	_, err := s.Ingest(context.Background(), account, nil, &st, false)
	return err
}
