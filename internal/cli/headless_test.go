package cli_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cashbell/cashbell/internal/stripesim"
	"github.com/cashbell/cashbell/internal/testsupport/fakestripe"
	"github.com/cashbell/cashbell/internal/testsupport/testbus"
	"github.com/cashbell/cashbell/internal/testsupport/testproc"
	notifierstore "github.com/cashbell/cashbell/notifier/store"
)

var bus *testbus.Bus

func TestMain(m *testing.M) {
	testproc.MaybeRun()
	testbus.Main(m, "cli tests", &bus)
}

type child struct {
	cmd    *exec.Cmd
	stderr *testproc.Buffer
	done   chan error
}

// start runs `cashbell <args>` as a separate process (this test binary in
// helper mode), with the harness's environment.
func (h *harness) start(t *testing.T, args ...string) *child {
	t.Helper()
	var env []string
	for k, v := range h.vars {
		env = append(env, k+"="+v)
	}
	cmd := testproc.Command(env, args...)
	c := &child{cmd: cmd, stderr: &testproc.Buffer{}, done: make(chan error, 1)}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-c.done
	})
	return c
}

func (c *child) waitLog(t *testing.T, pattern string) {
	t.Helper()
	re := regexp.MustCompile(pattern)
	deadline := time.Now().Add(10 * time.Second)
	for !re.MatchString(c.stderr.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("no log line matching %q in:\n%s", pattern, c.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (c *child) stop(t *testing.T, sig syscall.Signal) error {
	t.Helper()
	_ = c.cmd.Process.Signal(sig)
	select {
	case err := <-c.done:
		c.done <- err
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("cashbell did not stop in 10s")
	}
	return nil
}

func TestHeadlessExitsCleanlyOnSignals(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			h := newHarness(t)
			key := h.sim.NewKey(h.acct, false, stripesim.Restricted, stripesim.AllPermissions...)
			if r := h.run(t, key, "accounts", "add"); r.code != 0 {
				t.Fatal(r)
			}
			c := h.start(t, "run", "--headless", "--interval", "50ms")
			c.waitLog(t, "first import")
			if err := c.stop(t, sig); err != nil {
				t.Fatalf("exit after %s: %v\n%s", sig, err, c.stderr.String())
			}
			log := c.stderr.String()
			if !strings.Contains(log, "cashbell stopped") || strings.Contains(log, key) || strings.Contains(log, key[8:30]) {
				t.Fatalf("log:\n%s", log)
			}
		})
	}
}

func TestSecondInstanceSaysAlreadyRunning(t *testing.T) {
	h := newHarness(t)
	c := h.start(t, "run", "--headless")
	c.waitLog(t, "cashbell running headless")
	r := h.run(t, "", "run", "--headless")
	if r.code != 1 || !strings.Contains(r.stderr, "Cashbell is already running") {
		t.Fatalf("%+v", r)
	}
}

// While Cashbell runs and holds the store, the commands that read or change
// it are served by the running Cashbell, which polls an added account at once.
func TestCommandsWorkWhileCashbellRuns(t *testing.T) {
	h := newHarness(t)
	key := h.sim.NewKey(h.acct, false, stripesim.Restricted, stripesim.AllPermissions...)
	h.sim.Generator(h.acct, false, 1).Sale(stripesim.Sale{Amount: 4900, Currency: "usd", Email: "jane@example.com"})
	if r := h.run(t, key, "accounts", "add"); r.code != 0 {
		t.Fatal(r)
	}
	c := h.start(t, "run", "--headless", "--interval", "20ms")
	c.waitLog(t, "first import")

	r := h.run(t, "", "events", "--json")
	var rows []struct{ Type, Body string }
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil || r.code != 0 || len(rows) != 1 || rows[0].Body != "from jane@example.com" {
		t.Fatalf("events while running: %v %+v", err, r)
	}
	if r := h.run(t, "", "accounts", "list"); r.code != 0 || !strings.Contains(r.stdout, "Acme") {
		t.Fatalf("accounts list while running: %+v", r)
	}
	// An account added through the running Cashbell is polled by it.
	other := h.sim.CreateAccount(stripesim.AccountSpec{DisplayName: "Beta"})
	h.sim.Generator(other, true, 2).Payout(100000, "eur", false)
	otherKey := h.sim.NewKey(other, true, stripesim.Restricted, stripesim.AllPermissions...)
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte(otherKey), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := h.run(t, "", "accounts", "add", "--key-file", keyFile, "--name", "Beta shop"); r.code != 0 || !strings.Contains(r.stdout, "Added Beta shop") {
		t.Fatalf("add while running: %+v", r)
	}
	c.waitLog(t, "first import.*"+other)
	if r := h.run(t, "", "events", "--account", other+"-live"); r.code != 0 || !strings.Contains(r.stdout, "Payout paid") {
		t.Fatalf("events of the added account: %+v", r)
	}
	if r := h.run(t, "", "accounts", "remove", other+"-live"); r.code != 0 {
		t.Fatalf("remove while running: %+v", r)
	}
	if r := h.run(t, "", "accounts", "remove", "nope"); r.code != 1 || !strings.Contains(r.stderr, "no such account") {
		t.Fatalf("a refusal keeps its status and sentence: %+v", r)
	}
	// The channel is the user's alone, and the key never crossed a command line.
	socks, _ := filepath.Glob(filepath.Join(h.home, "config", "cashbell", "*.sock"))
	if len(socks) != 1 {
		t.Fatalf("sockets: %v", socks)
	}
	sock := socks[0]
	if info, err := os.Stat(sock); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("socket: %v %v", info, err)
	}
	if strings.Contains(c.stderr.String(), otherKey[8:30]) {
		t.Fatal("the key reached the log")
	}
	if err := c.stop(t, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Fatalf("the socket outlived Cashbell: %v", err)
	}
	// Without a running Cashbell the commands open the store themselves.
	if r := h.run(t, "", "accounts", "list"); r.code != 0 || strings.Contains(r.stdout, "Beta") {
		t.Fatalf("after stop: %+v", r)
	}
}

// "Check now" makes the running Cashbell poll at once, and cuts short the
// backoff after failures; without a running Cashbell it says how to start one.
func TestCheckNowPollsAtOnceAndCutsTheBackoffShort(t *testing.T) {
	quietBus()
	h := newHarness(t)
	if r := h.run(t, "", "check-now"); r.code != 1 || !strings.Contains(r.stderr, "Cashbell is not running") ||
		!strings.Contains(r.stderr, "cashbell run --headless") {
		t.Fatalf("check-now with nothing running: %+v", r)
	}
	key := h.sim.NewKey(h.acct, false, stripesim.Restricted, stripesim.AllPermissions...)
	if r := h.run(t, key, "accounts", "add"); r.code != 0 {
		t.Fatal(r)
	}
	c := h.start(t, "run", "--headless", "--interval", "1h")
	c.waitLog(t, "first import")
	gen := h.sim.Generator(h.acct, false, 1)
	gen.Sale(stripesim.Sale{Amount: 4900, Currency: "usd", Email: "jane@example.com"})
	// An hour's interval: only check-now can have fetched the sale.
	r := h.run(t, "", "check-now")
	if r.code != 0 || !regexp.MustCompile(`Acme\s+\d+\s+up to date`).MatchString(r.stdout) {
		t.Fatalf("check-now: %+v", r)
	}
	if r := h.run(t, "", "events"); !strings.Contains(r.stdout, "jane@example.com") {
		t.Fatalf("the sale check-now fetched is not stored: %+v", r)
	}
	// Stripe fails: the poll's error is said, with exit status 1, and the
	// loop backs off.
	h.sim.Inject(fakestripe.Fault{Kind: fakestripe.ServerError, Path: "/v1/events", Times: -1})
	if r := h.run(t, "", "check-now"); r.code != 1 || !strings.Contains(r.stdout, "Acme") ||
		!strings.Contains(r.stderr, "1 of 1 accounts could not be polled") {
		t.Fatalf("check-now while Stripe fails: %+v", r)
	}
	c.waitLog(t, "poll failed; backing off")
	h.sim.ClearFaults()
	gen.Sale(stripesim.Sale{Amount: 1200, Currency: "usd", Email: "li@example.com"})
	if r := h.run(t, "", "check-now", "--account", h.acct+"-test"); r.code != 0 || !strings.Contains(r.stdout, "up to date") {
		t.Fatalf("check-now after the fault: %+v", r)
	}
	if r := h.run(t, "", "events"); !strings.Contains(r.stdout, "li@example.com") {
		t.Fatalf("the backoff was not cut short: %+v", r)
	}
	if r := h.run(t, "", "check-now", "--account", "nope"); r.code != 1 || !strings.Contains(r.stderr, "no such account") {
		t.Fatalf("check-now of an unknown account: %+v", r)
	}
	if err := c.stop(t, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
}

// A SIGKILL partway through ingest, then a restart: every event is stored once,
// none is lost, and none is notified twice.
func TestSIGKILLDuringIngestThenRestart(t *testing.T) {
	quietBus()
	h := newHarness(t)
	key := h.sim.NewKey(h.acct, false, stripesim.Restricted, stripesim.AllPermissions...)
	if r := h.run(t, key, "accounts", "add"); r.code != 0 {
		t.Fatal(r)
	}
	gen := h.sim.Generator(h.acct, false, 9)
	c := h.start(t, "run", "--headless", "--interval", "30ms")
	c.waitLog(t, "first import")

	// A burst of five pages, each slow to come, and a kill once a page is
	// stored and before the last one is: a poll stores each page before it
	// asks for the next, so the third request of the burst means the first
	// page is in, and there are five.
	for range 450 {
		gen.Sale(gen.RandomSale())
	}
	h.sim.Inject(fakestripe.Fault{Kind: fakestripe.Slow, Delay: 150 * time.Millisecond, Path: "/v1/events", Times: -1})
	before := h.sim.RequestsTo("/v1/events")
	for deadline := time.Now().Add(10 * time.Second); h.sim.RequestsTo("/v1/events") < before+3; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the burst was never fetched")
		}
	}
	if err := c.stop(t, syscall.SIGKILL); err == nil {
		t.Fatal("SIGKILL did not kill")
	}
	h.sim.ClearFaults()
	storePath := filepath.Join(h.home, "config", "cashbell", "cashbell.db")
	s, err := notifierstore.Open(storePath, notifierstore.OpenOptions{})
	if err != nil {
		t.Fatalf("the store after SIGKILL: %v", err)
	}
	list, _ := s.Accounts(context.Background())
	n, _ := s.Count(context.Background(), list[0].ID)
	s.Close()
	if n == 0 || n >= 450 {
		t.Fatalf("%d of 450 events were stored when the kill came: it did not land mid-ingest", n)
	}
	t.Logf("%d of 450 events were stored when the kill came", n)
	for range 40 {
		gen.Sale(gen.RandomSale())
	}

	c = h.start(t, "run", "--headless", "--interval", "30ms")
	created := len(h.sim.EventIDs(h.acct, false))
	c.waitLog(t, "new events")
	// Delivered once something is on the bus (however slow the machine),
	// then a few idle polls that must tell nothing again.
	if got := bus.WaitFor(1, 10*time.Second); len(got) == 0 {
		t.Fatalf("nothing was notified after the restart\n%s", c.stderr.String())
	}
	time.Sleep(300 * time.Millisecond)
	if err := c.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("restart did not exit cleanly: %v\n%s", err, c.stderr.String())
	}

	store, err := notifierstore.Open(storePath, notifierstore.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	list, _ = store.Accounts(ctx)
	id := list[0].ID
	if n, _ := store.Count(ctx, id); n != created {
		t.Fatalf("stored %d of %d events", n, created)
	}
	if out, _ := store.Outbox(ctx, id); len(out) != 0 {
		t.Fatalf("%d events still waiting", len(out))
	}
	marks, _ := store.Marks(ctx, id)
	counts := map[notifierstore.Mark]int{}
	for _, evt := range h.sim.EventIDs(h.acct, false) {
		m, ok := marks[evt]
		if !ok {
			t.Fatalf("event %s was never handled", evt)
		}
		counts[m]++
	}
	// What is on screen, each notification as its last update left it,
	// tells no more happenings than were marked told: a burst counts its own.
	bus.WaitFor(1, 3*time.Second)
	told := 0
	for _, n := range bus.OnScreen() {
		if m := regexp.MustCompile(`^(\d+) (sales|events) `).FindStringSubmatch(n.Summary); m != nil {
			k, _ := strconv.Atoi(m[1])
			told += k
		} else if strings.HasPrefix(n.Summary, "New sale · ") {
			told++
		}
	}
	t.Logf("created %d; marks %v; told on screen %d", created, counts, told)
	if told > counts[notifierstore.MarkNotified]+counts[notifierstore.MarkSummarised] {
		t.Fatalf("more told than events marked: %d told, marks %v", told, counts)
	}
	if told == 0 {
		t.Fatal("nothing was notified")
	}
}

func quietBus() {
	for n := -1; n != len(bus.Notifications()); {
		n = len(bus.Notifications())
		time.Sleep(50 * time.Millisecond)
	}
	bus.Reset()
}

// A disk that fills while the store is written: the poll fails with a clear
// message, Cashbell keeps running, and after space comes back nothing is lost.
func TestDiskFullWhileWritingTheStore(t *testing.T) {
	h := newHarness(t)
	key := h.sim.NewKey(h.acct, false, stripesim.Restricted, stripesim.AllPermissions...)
	if r := h.run(t, key, "accounts", "add"); r.code != 0 {
		t.Fatal(r)
	}
	storePath := filepath.Join(h.home, "config", "cashbell", "cashbell.db")
	info, err := os.Stat(storePath)
	if err != nil {
		t.Fatal(err)
	}
	h.vars[testproc.EnvFileSizeLimit] = strconv.FormatInt(info.Size(), 10)
	c := h.start(t, "run", "--headless", "--interval", "20ms")
	gen := h.sim.Generator(h.acct, false, 4)
	for range 300 {
		gen.Sale(gen.RandomSale())
	}
	c.waitLog(t, "store cannot be written")
	time.Sleep(200 * time.Millisecond)
	select {
	case err := <-c.done:
		t.Fatalf("cashbell stopped on a full disk: %v\n%s", err, c.stderr.String())
	default:
	}
	if err := c.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("exit: %v", err)
	}
	delete(h.vars, testproc.EnvFileSizeLimit)
	c = h.start(t, "run", "--headless", "--interval", "20ms")
	c.waitLog(t, "cashbell running headless")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var rows []any
		r := h.run(t, "", "events", "--json", "--limit", "1000")
		if json.Unmarshal([]byte(r.stdout), &rows) == nil && len(rows) == 300 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 300 events stored after the disk had room again\n%s", len(rows), c.stderr.String())
		}
	}
	if err := c.stop(t, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	store, err := notifierstore.Open(storePath, notifierstore.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	list, _ := store.Accounts(context.Background())
	if n, _ := store.Count(context.Background(), list[0].ID); n != 300 {
		t.Fatalf("%d of 300 events after the disk had room again", n)
	}
}

func TestConfigDirThatCannotBeCreated(t *testing.T) {
	h := newHarness(t)
	// A file where the folder should be: even root cannot create it.
	if err := os.MkdirAll(filepath.Join(h.home, "config"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(h.home, "config", "cashbell"), []byte("not a folder"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := h.run(t, "", "accounts", "list")
	if r.code != 1 || !strings.Contains(r.stderr, "cannot create Cashbell's folder") || !strings.Contains(r.stderr, "check") {
		t.Fatalf("%+v", r)
	}
}

// Headless, a click on a notification opens its page through the desktop's
// opener: a stand-in xdg-open on PATH records the address.
func TestHeadlessOpensWhatWasClicked(t *testing.T) {
	quietBus()
	h := newHarness(t)
	dir := t.TempDir()
	opened := filepath.Join(dir, "opened")
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\" >> " + opened + "\n"
	if err := os.WriteFile(filepath.Join(dir, "xdg-open"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	h.vars["PATH"] = dir + string(os.PathListSeparator) + os.Getenv("PATH")
	key := h.sim.NewKey(h.acct, false, stripesim.Restricted, stripesim.AllPermissions...)
	if r := h.run(t, key, "accounts", "add"); r.code != 0 {
		t.Fatal(r)
	}
	c := h.start(t, "run", "--headless", "--interval", "20ms")
	c.waitLog(t, "first import")
	_, ch := h.sim.Generator(h.acct, false, 3).Sale(stripesim.Sale{Amount: 4900, Currency: "usd"})
	got := bus.WaitFor(1, 5*time.Second)
	if len(got) != 1 {
		t.Fatalf("no notification: %s", c.stderr.String())
	}
	// The user clicks; until Cashbell has read the server's answer with the
	// notification's id, a click is not yet its own, so click again.
	want := "https://dashboard.stripe.com/test/payments/" + ch
	deadline := time.Now().Add(5 * time.Second)
	for {
		if err := bus.Invoke(got[0].ID, "default"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
		data, _ := os.ReadFile(opened)
		if strings.HasPrefix(string(data), want+"\n") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("opened %q, want %q\n%s", data, want, c.stderr.String())
		}
	}
	// A second sale makes the notification a burst; with no Activity
	// window here, its button says where it does lead.
	h.sim.Generator(h.acct, false, 4).Sale(stripesim.Sale{Amount: 2500, Currency: "usd"})
	got = bus.WaitFor(2, 5*time.Second)
	if len(got) != 2 {
		t.Fatalf("no burst: %s", c.stderr.String())
	}
	if actions := strings.Join(got[1].Actions, "|"); actions != "default|Open in Stripe|open|Open in Stripe" {
		t.Fatalf("a headless burst offers %q", actions)
	}
	if err := c.stop(t, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
}
