package soak_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cashbell/cashbell/internal/cli"
	"github.com/cashbell/cashbell/internal/stripesim"
	"github.com/cashbell/cashbell/internal/testsupport/fakestripe"
	"github.com/cashbell/cashbell/internal/testsupport/testbus"
	"github.com/cashbell/cashbell/internal/testsupport/testproc"
	"github.com/cashbell/cashbell/notifier"
	"github.com/cashbell/cashbell/notifier/desktop"
	notifierstore "github.com/cashbell/cashbell/notifier/store"
)

var bus *testbus.Bus

func TestMain(m *testing.M) {
	testproc.MaybeRun()
	if os.Getenv("CASHBELL_SOAK") == "" {
		os.Exit(m.Run())
	}
	testbus.Main(m, "soak tests", &bus)
}

// TestSoak runs Cashbell headless against ten simulated accounts that make
// sales, refunds and failures all the time, with faults on about 12 % of
// Stripe's answers, and kills it hard again and again: half of the kills at
// a random moment, half at the moment a notification has reached the
// screen but Cashbell has not heard back. Then it counts what a person saw,
// notification by notification, against what the simulator made and what
// the store says it told.
func TestSoak(t *testing.T) {
	raw := os.Getenv("CASHBELL_SOAK")
	if raw == "" {
		t.Skip("set CASHBELL_SOAK=2m (make soak) to run the soak")
	}
	total, err := time.ParseDuration(raw)
	if err != nil {
		t.Fatalf("CASHBELL_SOAK=%q: %v", raw, err)
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	sim := fakestripe.New(stripesim.Options{}).Start()
	defer sim.Close()
	home := t.TempDir()
	env := []string{"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, "config"), "CASHBELL_API_BASE=" + sim.URL,
		"CASHBELL_KEYRING=file", "LANG=en_US.UTF-8", "DBUS_SESSION_BUS_ADDRESS=" + bus.Address}
	getenv := func(k string) string {
		for _, kv := range env {
			if v, ok := strings.CutPrefix(kv, k+"="); ok {
				return v
			}
		}
		return ""
	}
	cashbell := func(stdin string, args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		code := cli.Main(ctx, cli.Env{Args: args, Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut, Getenv: getenv})
		return code, out.String(), errOut.String()
	}

	const n = 10
	var ids []string
	var gens []*stripesim.Generator
	for i := range n {
		// Every API version, and on every other account every event that
		// may tell a refund: each refund must still be told once.
		id := sim.CreateAccount(stripesim.AccountSpec{DisplayName: fmt.Sprintf("Shop %02d", i), APIVersion: stripesim.Versions[i%len(stripesim.Versions)]})
		key := sim.NewKey(id, i%3 == 0, stripesim.Restricted, stripesim.AllPermissions...)
		if code, _, errOut := cashbell(key, "accounts", "add"); code != 0 {
			t.Fatalf("adding account %d: %s", i, errOut)
		}
		ids = append(ids, id)
		g := sim.Generator(id, i%3 == 0, uint64(i+1))
		if i%2 == 1 {
			g = g.EveryRefundEvent()
		}
		gens = append(gens, g)
	}

	logs := &testproc.Buffer{}
	var mu sync.Mutex // guards cmd and done, which the bus's hook reads
	var cmd *exec.Cmd
	var done chan error
	start := func() {
		c := testproc.Command(env, "run", "--headless", "--interval", "1s")
		c.Stderr = logs
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		d := make(chan error, 1)
		go func() { d <- c.Wait() }()
		mu.Lock()
		cmd, done = c, d
		mu.Unlock()
	}
	current := func() (*exec.Cmd, chan error) {
		mu.Lock()
		defer mu.Unlock()
		return cmd, done
	}
	start()
	time.Sleep(2 * time.Second) // first imports

	ctx, stopEvents := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r := rand.New(rand.NewPCG(seed, 4))
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				gens[r.IntN(n)].Random()
			}
		}
	}()
	sim.SetChaos(0.12, seed, 400*time.Millisecond,
		fakestripe.RateLimit, fakestripe.ServerError, fakestripe.Slow, fakestripe.Drop, fakestripe.BrokenJSON)

	// Kills: about eight, whatever the length, so that a short soak in CI
	// kills as often as the long one.
	kills, killsAtNotify := 0, 0
	gap := max(2*time.Second, total/9)
	deadline := time.Now().Add(total)
	for {
		wait := gap/2 + time.Duration(rng.Int64N(int64(gap)))
		if time.Now().Add(wait).After(deadline) {
			break
		}
		time.Sleep(wait)
		c, d := current()
		if kills%2 == 1 {
			// At a notification: it is on the bus, and Cashbell dies before
			// it hears so. A build that marks events only after showing
			// them shows these again after the restart.
			fired := make(chan struct{})
			var once sync.Once
			bus.OnNotify(func(testbus.Notification) {
				once.Do(func() {
					_ = c.Process.Signal(syscall.SIGKILL)
					close(fired)
				})
			})
			select {
			case <-fired:
				killsAtNotify++
			case <-time.After(gap):
			}
			bus.OnNotify(nil)
		}
		_ = c.Process.Signal(syscall.SIGKILL)
		testproc.Within(t, d, 10*time.Second, "the killed Cashbell ending")
		kills++
		time.Sleep(time.Duration(200+rng.IntN(1500)) * time.Millisecond)
		start()
	}
	stopEvents()
	wg.Wait()
	sim.ClearFaults()

	// Drain: "Check now" until every event the simulator made is stored,
	// instead of waiting out a backoff that can reach minutes.
	want := map[string]int{}
	for i, id := range ids {
		want[id] = len(sim.EventIDs(id, i%3 == 0, notifier.ListedTypes()...))
	}
	drainDeadline := time.Now().Add(60 * time.Second)
	for drained := false; !drained; {
		if time.Now().After(drainDeadline) {
			t.Errorf("the store still lacks events 60 s after the faults ended")
			break
		}
		code, out, errOut := cashbell("", "check-now")
		drained = code == 0 && storedAll(t, out, sim, ids, want)
		if !drained {
			t.Logf("check-now (exit %d): %s%s", code, out, errOut)
			time.Sleep(500 * time.Millisecond)
		}
	}
	c, d := current()
	_ = c.Process.Signal(syscall.SIGTERM)
	if err := testproc.Within(t, d, 20*time.Second, "Cashbell stopping on SIGTERM"); err != nil {
		t.Fatalf("final stop: %v", err)
	}

	r := count(t, filepath.Join(home, "config", "cashbell", "cashbell.db"), sim, ids, bus.Notifications())
	fmt.Printf(`
soak: %s, %d accounts, %d SIGKILLs and restarts (%d as a notification reached the screen), faults on about 12%% of requests
  events created by the simulator        %6d
  events stored                          %6d
  happenings worth a notification        %6d
  announced on the bus                   %6d   in %d notifications (%d updates of running ones)
  stored silently (settlements, imports) %6d
  repeats of a happening told by another %6d
  not worth a notification               %6d
  still waiting in the outbox            %6d
  running notifications whose text disagrees with the store  %d
  lost                                   %6d   (must be 0: %d never stored, %d marked but never shown, %d worth one but not announced)
  duplicated                             %6d   (must be 0: %d shown twice, %d shown but unknown to the store)
  polls that failed and backed off       %6d
`, total, n, kills, killsAtNotify, r.created, r.stored, r.worth, r.announced, r.notifications, r.updates, r.silent, r.repeats, r.unworthy,
		r.pending, r.disagree, r.lost(), r.neverStored, r.unshown, r.unannounced, r.duplicated(), r.twice, r.unknown,
		strings.Count(logs.String(), "poll failed"))
	for _, p := range r.problems[:min(len(r.problems), 60)] {
		t.Log(p)
	}
	if r.lost() != 0 || r.duplicated() != 0 || r.pending != 0 || r.disagree != 0 {
		t.Fatalf("lost %d, duplicated %d, pending %d, disagreeing texts %d", r.lost(), r.duplicated(), r.pending, r.disagree)
	}
	if kills < 3 || killsAtNotify == 0 || r.created < int(total.Seconds())*10 || r.announced == 0 {
		t.Fatalf("the soak did too little: %d kills (%d at a notification), %d events, %d announced", kills, killsAtNotify, r.created, r.announced)
	}
}

// storedAll reads check-now's table: every account up to date with all the
// simulator's events.
func storedAll(t *testing.T, out string, sim *fakestripe.Stripe, ids []string, want map[string]int) bool {
	got := 0
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || f[0] == "ID" {
			continue
		}
		// ID NAME(two words) EVENTS RESULT...
		for i, id := range ids {
			if f[1]+" "+f[2] != fmt.Sprintf("Shop %02d", i) {
				continue
			}
			n, err := strconv.Atoi(f[3])
			if err != nil || n < want[id] {
				return false
			}
			got++
		}
	}
	return got == len(ids)
}

// result is what the soak found.
type result struct {
	created, stored, worth, announced, notifications, updates int
	silent, repeats, unworthy, pending, disagree              int
	neverStored, unshown, unannounced                         int // lost
	twice, unknown                                            int // duplicated
	problems                                                  []string
}

func (r *result) lost() int       { return r.neverStored + r.unshown + r.unannounced }
func (r *result) duplicated() int { return r.twice + r.unknown }

func (r *result) problem(format string, args ...any) {
	r.problems = append(r.problems, fmt.Sprintf(format, args...))
}

// shown is one notification as a person saw it: its updates, the events
// they announced, and its last text.
type shown struct {
	events []string
	last   testbus.Notification
	calls  int
}

var runningProblems = regexp.MustCompile(`^(\d+) (.+) in \d+ min — `)

// count holds the bus against the store and the simulator.
func count(t *testing.T, path string, sim *fakestripe.Stripe, ids []string, got []testbus.Notification) *result {
	store, err := notifierstore.Open(path, notifierstore.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	r := &result{}

	// What the bus saw: each notification id with every event its updates
	// announced, and every place each event was announced.
	byID := map[uint32]*shown{}
	at := map[string][]uint32{}
	for _, b := range got {
		evs, _ := b.Hints[desktop.EventsHint].Value().([]string)
		if len(evs) == 0 {
			continue // a notice (a key stopped working), not a happening
		}
		s := byID[b.ID]
		if s == nil {
			s = &shown{}
			byID[b.ID] = s
		}
		s.calls++
		s.last = b
		s.events = append(s.events, evs...)
		for _, e := range evs {
			at[e] = append(at[e], b.ID)
		}
	}
	r.notifications = len(byID)
	for _, s := range byID {
		r.updates += s.calls - 1
	}

	accts, err := store.Accounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	set, err := store.Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	opt := notifier.TextOptions{Money: notifier.NewMoney("en_US.UTF-8"), HideAmounts: set.HideAmounts}
	happening := map[string]notifier.Happening{}
	known := map[string]bool{}
	toldKeys := map[string]bool{} // the keys of the happenings announced
	var repeats []notifier.Happening
	for i, id := range ids {
		var acct notifier.Source
		var acctID string
		for _, a := range accts {
			if a.StripeAccount == id {
				acctID, acct = a.ID, notifier.Source{Name: a.Name, Live: a.Live(), Connected: a.ConnectedID()}
			}
		}
		evs, _, err := store.Page(ctx, notifierstore.Query{Accounts: []string{acctID}, Limit: 1_000_000})
		if err != nil {
			t.Fatal(err)
		}
		hs, err := notifier.Happenings(ctx, notifier.History{Store: store}, evs, func(string) notifier.Source { return acct })
		if err != nil {
			t.Fatal(err)
		}
		created := sim.EventIDs(id, i%3 == 0, notifier.ListedTypes()...)
		r.created += len(created)
		r.stored += len(evs)
		stored := map[string]bool{}
		for _, h := range hs {
			stored[h.Event.ID] = true
			happening[h.Event.ID] = h
			worth := h.Notifies() && set.Enabled(h.Kind.ID)
			onBus := len(at[h.Event.ID])
			switch m := h.Event.Mark; {
			case m == "":
				r.pending++
			case m == notifierstore.MarkSilent:
				r.silent++
			case m == notifierstore.MarkRepeat:
				r.repeats++
				repeats = append(repeats, h)
			case m == notifierstore.MarkNotified || m == notifierstore.MarkSummarised:
				known[h.Event.ID] = true
				if k := h.Key(); k != "" {
					toldKeys[k] = true
				}
				r.worth++
				if onBus == 0 {
					r.unshown++
					r.problem("%s %s (%s) is marked %s but was never shown", acctID, h.Event.ID, h.Event.Type, m)
				}
			case worth:
				r.worth++
				r.unannounced++
				r.problem("%s %s (%s) is worth a notification but marked %s", acctID, h.Event.ID, h.Event.Type, m)
			default:
				r.unworthy++
			}
			if onBus > 1 {
				r.twice += onBus - 1
				r.problem("%s %s (%s) was announced %d times, in notifications %v", acctID, h.Event.ID, h.Event.Type, onBus, at[h.Event.ID])
			}
			if onBus > 0 {
				r.announced++
			}
		}
		for _, e := range created {
			if !stored[e] {
				r.neverStored++
				r.problem("%s %s was made by the simulator but never stored", acctID, e)
			}
		}
		for _, h := range hs {
			if !slices.Contains(created, h.Event.ID) {
				r.problem("%s %s (%s) is stored but the simulator never made it", acctID, h.Event.ID, h.Event.Type)
				r.unknown++
			}
		}
	}
	// A repeat is an event whose happening another event told: that one
	// must have been announced.
	for _, h := range repeats {
		if k := h.Key(); k != "" && !toldKeys[k] {
			r.unannounced++
			r.problem("%s (%s) repeats %s, which was never announced", h.Event.ID, h.Event.Type, k)
		}
	}
	for e, where := range at {
		if !known[e] {
			r.unknown += len(where)
			r.problem("%s was shown (notifications %v) but the store does not mark it as told", e, where)
		}
	}

	// Each notification's last text must say what its events were: a single
	// happening as itself, a running one with its counts and totals, a run
	// of one kind of bad news with its number.
	for id, s := range byID {
		var hs []notifier.Happening
		for _, e := range s.events {
			if h, ok := happening[e]; ok {
				hs = append(hs, h)
			}
		}
		if len(hs) != len(s.events) {
			continue // counted above as unknown to the store
		}
		var want string
		switch {
		case len(hs) == 1:
			want = hs[0].Text(opt).Title
		case hs[0].Kind != nil && hs[0].Kind.Bad:
			// A run of one kind of bad news counts them: "37 failed
			// payments in 5 min — Acme".
			m := runningProblems.FindStringSubmatch(s.last.Summary)
			if m == nil || m[1] != strconv.Itoa(len(hs)) || m[2] != hs[0].Kind.Many {
				r.disagree++
				r.problem("notification %d says %q for %d %s", id, s.last.Summary, len(hs), hs[0].Kind.Many)
			}
			continue
		default:
			var b notifier.Tally
			for _, h := range hs {
				b.Add(h)
			}
			want = b.Text(hs[0].Account, opt).Title
		}
		if s.last.Summary != want {
			r.disagree++
			r.problem("notification %d ends as %q; its %d events make %q", id, s.last.Summary, len(hs), want)
		}
	}
	return r
}
