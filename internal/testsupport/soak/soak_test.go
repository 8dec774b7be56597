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
)

var bus *testbus.Bus

func TestMain(m *testing.M) {
	testproc.MaybeRun()
	if os.Getenv("CASHBELL_SOAK") == "" {
		os.Exit(m.Run())
	}
	testbus.Main(m, "soak tests", &bus)
}

func TestSoak(t *testing.T) {
	raw := os.Getenv("CASHBELL_SOAK")
	if raw == "" {
		t.Skip("set CASHBELL_SOAK=2m (make soak) to run the soak")
	}
	total, err := time.ParseDuration(raw)
	if err != nil {
		t.Fatalf("CASHBELL_SOAK=%q: %v", raw, err)
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
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

	const n = 10
	var ids []string
	var gens []*stripesim.Generator
	for i := range n {
		id := sim.CreateAccount(stripesim.AccountSpec{DisplayName: fmt.Sprintf("Shop %02d", i)})
		key := sim.NewKey(id, i%3 == 0, stripesim.Restricted, stripesim.AllPermissions...)
		var out, errOut bytes.Buffer
		if code := cli.Main(context.Background(), cli.Env{Args: []string{"accounts", "add"}, Stdin: strings.NewReader(key),
			Stdout: &out, Stderr: &errOut, Getenv: getenv}); code != 0 {
			t.Fatalf("adding account %d: %s", i, errOut.String())
		}
		ids = append(ids, id)
		gens = append(gens, sim.Generator(id, i%3 == 0, uint64(i+1)))
	}

	logs := &testproc.Buffer{}
	start := func() (*exec.Cmd, chan error) {
		cmd := testproc.Command(env, "run", "--headless", "--interval", "1s")
		cmd.Stderr = logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		return cmd, done
	}
	cmd, done := start()
	time.Sleep(2 * time.Second) // first imports

	ctx, stopEvents := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r := rand.New(rand.NewPCG(3, 4))
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
	sim.SetChaos(0.12, 11, 400*time.Millisecond,
		fakestripe.RateLimit, fakestripe.ServerError, fakestripe.Slow, fakestripe.Drop, fakestripe.BrokenJSON)

	kills := 0
	deadline := time.Now().Add(total - 25*time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(time.Duration(8+rng.IntN(8)) * time.Second)
		if time.Now().After(deadline) {
			break
		}
		_ = cmd.Process.Signal(syscall.SIGKILL)
		testproc.Within(t, done, 10*time.Second, "the killed Cashbell ending")
		kills++
		time.Sleep(time.Duration(200+rng.IntN(1500)) * time.Millisecond)
		cmd, done = start()
	}
	stopEvents()
	wg.Wait()
	sim.ClearFaults()
	time.Sleep(10 * time.Second) // drain: several polls without faults
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := testproc.Within(t, done, 20*time.Second, "Cashbell stopping on SIGTERM"); err != nil {
		t.Fatalf("final stop: %v", err)
	}
	time.Sleep(500 * time.Millisecond) // the last notifications reach the bus

	store, err := notifier.Open(filepath.Join(home, "config", "cashbell", "cashbell.db"), notifier.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	accts, _ := store.Accounts(context.Background())
	created, stored, lost, silent, skipped, notified, summarised, pending := 0, 0, 0, 0, 0, 0, 0, 0
	for i, id := range ids {
		var acct string
		for _, a := range accts {
			if a.StripeAccount == id {
				acct = a.ID
			}
		}
		marks, _ := store.Marks(context.Background(), acct)
		count, _ := store.Count(context.Background(), acct)
		out, _ := store.Outbox(context.Background(), acct)
		pending += len(out)
		stored += count
		all := sim.EventIDs(id, i%3 == 0)
		created += len(all)
		inOutbox := map[string]bool{}
		for _, e := range out {
			inOutbox[e.ID] = true
		}
		for _, evt := range all {
			m, ok := marks[evt]
			switch {
			case !ok && !inOutbox[evt]:
				lost++
			case m == notifier.MarkSilent:
				silent++
			case m == notifier.MarkSkipped:
				skipped++
			case m == notifier.MarkNotified:
				notified++
			case m == notifier.MarkSummarised:
				summarised++
			}
		}
	}
	busIndividual, busSummarised, busSummaries := 0, 0, 0
	more := regexp.MustCompile(` — and (\d+) more$`)
	for _, b := range bus.Notifications() {
		if m := more.FindStringSubmatch(b.Summary); m != nil {
			k, _ := strconv.Atoi(m[1])
			busSummarised += k
			busSummaries++
		} else if !strings.Contains(b.Summary, "key stopped working") {
			busIndividual++
		}
	}
	duplicated := max(0, busIndividual-notified) + max(0, busSummarised-summarised) + max(0, stored-created)
	unsent := max(0, notified-busIndividual) + max(0, summarised-busSummarised)
	warnings := strings.Count(logs.String(), "poll failed")
	fmt.Printf(`
soak: %s, %d accounts, %d SIGKILLs and restarts, faults on about 12%% of requests
  events created by the simulator      %6d
  events stored                        %6d
  notified individually                %6d   (%d on the bus)
  covered by a summary                 %6d   (%d on the bus, in %d summaries)
  stored silently (first import)       %6d
  skipped (not worth a notification)   %6d
  still waiting in the outbox          %6d
  lost                                 %6d   (must be 0)
  duplicated                           %6d   (must be 0)
  marked but not shown (killed between mark and send) %d
  polls that failed and backed off     %6d
`, total, n, kills, created, stored, notified, busIndividual, summarised, busSummarised, busSummaries, silent, skipped, pending, lost, duplicated, unsent, warnings)
	if lost != 0 || duplicated != 0 || pending != 0 || stored != created {
		t.Fatalf("lost %d, duplicated %d, pending %d, stored %d of %d", lost, duplicated, pending, stored, created)
	}
	if kills == 0 || created < 500 {
		t.Fatalf("the soak did too little: %d kills, %d events", kills, created)
	}
}
