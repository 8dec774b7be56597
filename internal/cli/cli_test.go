package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/cashbell/cashbell/accounts"
	"github.com/cashbell/cashbell/internal/cli"
	"github.com/cashbell/cashbell/internal/stripesim"
	"github.com/cashbell/cashbell/internal/testsupport/fakestripe"
	"github.com/cashbell/cashbell/notifier/store"
)

type harness struct {
	sim     *fakestripe.Stripe
	acct    string
	home    string
	vars    map[string]string
	keyring accounts.Keyring
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	sim := fakestripe.New(stripesim.Options{}).Start()
	t.Cleanup(sim.Close)
	home := t.TempDir()
	return &harness{
		sim:  sim,
		acct: sim.CreateAccount(stripesim.AccountSpec{DisplayName: "Acme"}),
		home: home,
		vars: map[string]string{
			"HOME": home, "XDG_CONFIG_HOME": filepath.Join(home, "config"),
			accounts.EnvAPIBase: sim.URL, "CASHBELL_KEYRING": "file", "LANG": "en_US.UTF-8",
		},
	}
}

type result struct {
	code           int
	stdout, stderr string
}

func (h *harness) run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	code := cli.Main(ctx, cli.Env{
		Args: args, Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut,
		Getenv: func(k string) string { return h.vars[k] }, Keyring: h.keyring,
	})
	return result{code, out.String(), errOut.String()}
}

func TestAccountsAddListRemove(t *testing.T) {
	h := newHarness(t)
	key := h.sim.NewKey(h.acct, false, stripesim.Restricted, stripesim.AllPermissions...)

	r := h.run(t, key+"\n", "accounts", "add", "--name", "Acme shop")
	if r.code != 0 || !strings.Contains(r.stdout, "Added Acme shop") {
		t.Fatalf("add: %+v", r)
	}
	if !strings.Contains(r.stdout, "readable only by you") {
		t.Fatalf("add does not say where the key went: %q", r.stdout)
	}
	r = h.run(t, key, "accounts", "add")
	if r.code == 0 || !strings.Contains(r.stderr, "already watched") || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Fatalf("duplicate: %+v", r)
	}

	r = h.run(t, "", "accounts", "list", "--json")
	var list []accounts.Account
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || r.code != 0 {
		t.Fatalf("list --json: %v %+v", err, r)
	}
	if len(list) != 1 || list[0].Name != "Acme shop" || list[0].Mode != accounts.ModeTest || list[0].StripeAccount != h.acct {
		t.Fatalf("list: %+v", list)
	}
	r = h.run(t, "", "accounts", "list")
	if r.code != 0 || !strings.Contains(r.stdout, "TEST") || !strings.Contains(r.stdout, list[0].KeyMasked) || strings.Contains(r.stdout, key) {
		t.Fatalf("list: %+v", r)
	}

	r = h.run(t, "", "accounts", "remove", list[0].ID)
	if r.code != 0 {
		t.Fatalf("remove: %+v", r)
	}
	r = h.run(t, "", "accounts", "remove", list[0].ID)
	if r.code != 1 || !strings.Contains(r.stderr, "no such account") {
		t.Fatalf("remove again: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(h.home, "config", "cashbell", "keys.json")); !os.IsNotExist(err) {
		t.Fatalf("key file left after the last account went: %v", err)
	}
}

// lockedKeyring answers the probe but refuses to store any key, like a
// Secret Service whose collection stays locked.
type lockedKeyring struct{}

func (lockedKeyring) Get(string, string) (string, error) { return "", keyring.ErrNotFound }
func (lockedKeyring) Set(string, string, string) error   { return errors.New("collection is locked") }
func (lockedKeyring) Delete(string, string) error        { return keyring.ErrNotFound }

func TestAKeyTheKeyringRefusesIsSaidToBeInTheFile(t *testing.T) {
	h := newHarness(t)
	delete(h.vars, "CASHBELL_KEYRING")
	h.keyring = lockedKeyring{}
	key := h.sim.NewKey(h.acct, false, stripesim.Restricted, stripesim.AllPermissions...)
	r := h.run(t, key, "accounts", "add")
	if r.code != 0 || !strings.Contains(r.stdout, "Your system keyring refused the key, so it is kept in") || strings.Contains(r.stdout, "kept in your system keyring") {
		t.Fatalf("add: %+v", r)
	}
	r = h.run(t, "", "accounts", "list")
	if r.code != 0 || !strings.Contains(r.stdout, "keys.json") || !strings.Contains(r.stdout, "the keyring refused them") {
		t.Fatalf("list: %+v", r)
	}
}

func TestAccountsCheckPrintsTheReportAndStoresNothing(t *testing.T) {
	h := newHarness(t)
	key := h.sim.NewKey(h.acct, true, stripesim.Restricted, stripesim.PermEventRead, stripesim.PermBalanceTransactionRead)
	r := h.run(t, "  '"+key+"'  ", "accounts", "check")
	if r.code != 0 {
		t.Fatalf("check: %+v", r)
	}
	for _, want := range []string{"rak_event_read", "granted", "rak_customer_read", "missing", "no customer in notifications", "https://dashboard.stripe.com/apikeys/create?"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout+r.stderr, key) {
		t.Fatal("the report prints the key")
	}
	if _, err := os.Stat(filepath.Join(h.home, "config", "cashbell")); !os.IsNotExist(err) {
		t.Fatalf("check created state: %v", err)
	}
}

func TestAccountsRefusalsExitNonZeroWithOneLine(t *testing.T) {
	h := newHarness(t)
	revoked := h.sim.NewKey(h.acct, false, stripesim.Restricted, stripesim.AllPermissions...)
	h.sim.RevokeKey(revoked)
	noEvents := h.sim.NewKey(h.acct, false, stripesim.Restricted, stripesim.PermBalanceTransactionRead)
	cases := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"publishable", "pk_test_abcdefghijklmnop", []string{"accounts", "add"}, 1, "publishable"},
		{"empty", "", []string{"accounts", "add"}, 1, "no key given"},
		{"garbage", "hello", []string{"accounts", "check"}, 1, "does not look like a Stripe API key"},
		{"endless key file", "", []string{"accounts", "check", "--key-file", "/dev/zero"}, 1, "far longer than a Stripe key"},
		{"revoked", revoked, []string{"accounts", "add"}, 1, "revoked"},
		{"no events", noEvents, []string{"accounts", "check"}, 1, "cannot read events"},
		{"unknown command", "", []string{"frobnicate"}, 2, "unknown command"},
		{"bad flag", "", []string{"accounts", "list", "--nope"}, 2, "flag provided but not defined"},
		{"remove without id", "", []string{"accounts", "remove"}, 2, "one account id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.run(t, tc.stdin, tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("code %d, stderr %q; want %d and %q", r.code, r.stderr, tc.code, tc.want)
			}
			first := strings.SplitN(r.stderr, "\n", 2)[0]
			if !strings.HasPrefix(first, "cashbell: ") {
				t.Fatalf("first line %q is not the reason", first)
			}
		})
	}
}

func TestAPIBaseMustBeSafe(t *testing.T) {
	h := newHarness(t)
	h.vars[accounts.EnvAPIBase] = "http://stripe.example.com"
	r := h.run(t, "rk_test_abcdefghijklmnop", "accounts", "check")
	if r.code != 1 || !strings.Contains(r.stderr, "loopback") {
		t.Fatalf("%+v", r)
	}
}

func TestEventsCommand(t *testing.T) {
	h := newHarness(t)
	key := h.sim.NewKey(h.acct, false, stripesim.Restricted, stripesim.AllPermissions...)
	gen := h.sim.Generator(h.acct, false, 3)
	gen.Sale(stripesim.Sale{Amount: 4900, Currency: "usd", Email: "jane@example.com", Country: "FR"})
	gen.Sale(stripesim.Sale{Amount: 100, Currency: "usd", Description: "tea\x1b]0;pwned\x07\x1b[2J\nrow two\u202E"})
	gen.Payout(100000, "eur", false)
	if r := h.run(t, key, "accounts", "add"); r.code != 0 {
		t.Fatal(r)
	}
	c := h.start(t, "run", "--headless", "--interval", "20ms")
	c.waitLog(t, "first import")
	if err := c.stop(t, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	r := h.run(t, "", "events", "--json", "--limit", "5")
	var rows []struct {
		ID, Account, Type, Title, Body, Notified string
	}
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil || r.code != 0 {
		t.Fatalf("events --json: %v %+v", err, r)
	}
	if len(rows) != 3 || rows[0].Type != "payout.paid" || rows[2].Title != "New sale · $49.00 — Acme" || rows[2].Body != "from jane@example.com (FR)" || rows[2].Notified != "silent" {
		t.Fatalf("rows %+v", rows)
	}
	// The table shows what a customer wrote as one line, without the
	// escape sequences a terminal would obey.
	r = h.run(t, "", "events")
	if r.code != 0 || strings.ContainsAny(r.stdout, "\x1b\x07\u202E") || !strings.Contains(r.stdout, "tea]0;pwned[2J row two") || strings.Count(r.stdout, "\n") != 4 {
		t.Fatalf("events table: %q", r.stdout)
	}
	r = h.run(t, "", "events", "--account", rows[0].Account, "--limit", "1")
	if r.code != 0 || !strings.Contains(r.stdout, "Payout paid") || strings.Contains(r.stdout, "New sale") {
		t.Fatalf("events --account --limit 1: %+v", r)
	}
	if r := h.run(t, "", "events", "--account", "nope"); r.code != 1 || !strings.Contains(r.stderr, "no such account") {
		t.Fatalf("%+v", r)
	}
	if r := h.run(t, "", "events", "--limit", "0"); r.code != 2 {
		t.Fatalf("%+v", r)
	}
}

// On an account that captures asynchronously, Stripe settles a sale after
// telling it (charge.updated); the fee and net it settled are in the table
// and the JSON, beside the sale they belong to.
func TestEventsShowTheFeeAndNetStripeSettled(t *testing.T) {
	h := newHarness(t)
	acct := h.sim.CreateAccount(stripesim.AccountSpec{DisplayName: "Basil", APIVersion: stripesim.VersionBasil})
	key := h.sim.NewKey(acct, false, stripesim.Restricted, stripesim.AllPermissions...)
	if r := h.run(t, key, "accounts", "add"); r.code != 0 {
		t.Fatal(r)
	}
	c := h.start(t, "run", "--headless", "--interval", "20ms")
	c.waitLog(t, "first import")
	h.sim.Generator(acct, false, 0).Sale(stripesim.Sale{Amount: 10000, Currency: "usd", Fee: 320})
	type row struct {
		Type        string
		NetCurrency string `json:"net_currency"`
		Fee, Net    *int64
	}
	var rows []row
	deadline := time.Now().Add(5 * time.Second)
	for len(rows) == 0 || rows[len(rows)-1].Net == nil {
		if time.Now().After(deadline) {
			t.Fatalf("no net after settlement: %+v", rows)
		}
		time.Sleep(20 * time.Millisecond)
		r := h.run(t, "", "events", "--json")
		rows = nil
		if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil || r.code != 0 {
			t.Fatalf("events --json: %v %+v", err, r)
		}
	}
	// Newest first: the charge.updated, then the sale it settled.
	if len(rows) != 2 || rows[0].Type != "charge.updated" || rows[1].Type != "charge.succeeded" {
		t.Fatalf("rows %+v", rows)
	}
	if sale := rows[1]; *sale.Fee != 320 || *sale.Net != 9680 || sale.NetCurrency != "usd" {
		t.Fatalf("sale %+v fee %d net %d", sale, *sale.Fee, *sale.Net)
	}
	if r := h.run(t, "", "events"); !strings.Contains(r.stdout, "$96.80") || !strings.Contains(r.stdout, "NET") {
		t.Fatalf("events table: %q", r.stdout)
	}
	if err := c.stop(t, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
}

// A store cut short by a full disk is moved aside with a sentence, not a
// crash, and the accounts are still there.
func TestEventsOnATruncatedStore(t *testing.T) {
	h := newHarness(t)
	key := h.sim.NewKey(h.acct, false, stripesim.Restricted, stripesim.AllPermissions...)
	gen := h.sim.Generator(h.acct, false, 3)
	for range 60 {
		gen.Sale(gen.RandomSale())
	}
	if r := h.run(t, key, "accounts", "add"); r.code != 0 {
		t.Fatal(r)
	}
	c := h.start(t, "run", "--headless", "--interval", "20ms")
	c.waitLog(t, "first import")
	if err := c.stop(t, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(h.home, "config", "cashbell", "cashbell.db")
	if err := os.Truncate(path, 20000); err != nil {
		t.Fatal(err)
	}
	r := h.run(t, "", "events")
	if r.code != 0 || !strings.Contains(r.stderr, "the store was damaged; it was moved to") {
		t.Fatalf("events on a truncated store: %+v", r)
	}
	if r := h.run(t, "", "accounts", "list"); r.code != 0 || !strings.Contains(r.stdout, "Acme") {
		t.Fatalf("accounts after the store was rebuilt: %+v", r)
	}
}

// --help works at every level, and --version names the version and the build.
func TestHelpAndVersion(t *testing.T) {
	h := newHarness(t)
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"accounts", "--help"}, {"accounts", "add", "--help"},
		{"accounts", "list", "-h"}, {"help", "accounts", "remove"}, {"events", "--help"}, {"run", "--help"}} {
		r := h.run(t, "", args...)
		if r.code != 0 || !strings.HasPrefix(strings.TrimPrefix(r.stdout, "Cashbell rings when your Stripe accounts make money.\n\n"), "Usage:\n  cashbell") {
			t.Errorf("%v: %+v", args, r)
		}
	}
	if r := h.run(t, "", "accounts", "--help"); !strings.Contains(r.stdout, "accounts remove <id>") || strings.Contains(r.stdout, "events") {
		t.Errorf("accounts --help shows other commands: %s", r.stdout)
	}
	if r := h.run(t, "", "accounts"); r.code != 2 || !strings.Contains(r.stderr, "needs a subcommand: add, check, list, remove") {
		t.Errorf("accounts alone: %+v", r)
	}
	var out bytes.Buffer
	code := cli.Main(context.Background(), cli.Env{Args: []string{"--version"}, Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" }, Version: "9.8.7"})
	if code != 0 || !strings.HasPrefix(out.String(), "Cashbell 9.8.7 (") || !strings.Contains(out.String(), runtime.Version()) {
		t.Fatalf("--version: %d %q", code, out.String())
	}
}

// `cashbell ui` is started by a running Cashbell, which hands it its
// channel: by hand, or without a display, it says so instead of panicking.
func TestTheUIProcessSaysWhatItLacks(t *testing.T) {
	for _, tc := range []struct {
		vars map[string]string
		want string
	}{
		{map[string]string{}, "there is no display to draw windows on"},
		{map[string]string{"DISPLAY": ":99"}, "`cashbell ui` is started by a running Cashbell"},
	} {
		var out, errOut bytes.Buffer
		started := false
		code := cli.Main(context.Background(), cli.Env{Args: []string{"ui"}, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut,
			Getenv: func(k string) string { return tc.vars[k] },
			UI:     func(context.Context, cli.UIOptions) error { started = true; return nil }})
		if code == 0 || started || !strings.Contains(errOut.String(), tc.want) {
			t.Fatalf("%v: exit %d, %q", tc.vars, code, errOut.String())
		}
	}
}

// accounts list says each account's MRR and subscribers, as the store
// keeps them (one paid subscription counts; a trial does not).
func TestAccountsListSaysMRR(t *testing.T) {
	h := newHarness(t)
	key := h.sim.NewKey(h.acct, false, stripesim.Restricted, stripesim.AllPermissions...)
	if r := h.run(t, key, "accounts", "add"); r.code != 0 {
		t.Fatalf("add: %+v", r)
	}
	r := h.run(t, "", "accounts", "list", "--json")
	var rows []struct {
		ID          string           `json:"id"`
		MRR         map[string]int64 `json:"mrr"`
		Subscribers int              `json:"subscribers"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil || len(rows) != 1 || len(rows[0].MRR) != 0 {
		t.Fatalf("before any listing: %v %s", err, r.stdout)
	}
	st, err := store.Open(filepath.Join(h.home, "config", "cashbell", "cashbell.db"), store.OpenOptions{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	sub := func(id, status string) store.Subscription {
		return store.Subscription{ID: id, AsOf: 1, JSON: []byte(`{"id":"` + id + `","customer":"cus_` + id + `","status":"` + status + `",` +
			`"items":{"data":[{"quantity":2,"price":{"unit_amount":4900,"currency":"usd","recurring":{"interval":"month","interval_count":1}}}]}}`)}
	}
	err = st.PutSubscriptions(context.Background(), rows[0].ID, []store.Subscription{sub("sub_1", "active"), sub("sub_2", "trialing")}, time.Unix(1, 0))
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	r = h.run(t, "", "accounts", "list", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil || rows[0].MRR["usd"] != 9800 || rows[0].Subscribers != 1 {
		t.Fatalf("list --json: %v %s", err, r.stdout)
	}
	r = h.run(t, "", "accounts", "list")
	if r.code != 0 || !strings.Contains(r.stdout, "MRR") || !strings.Contains(r.stdout, "$98.00") {
		t.Fatalf("list: %+v", r)
	}
}
