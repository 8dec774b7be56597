package app

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/cashbell/cashbell/accounts"
	"github.com/cashbell/cashbell/assets"
	"github.com/cashbell/cashbell/internal/local"
	"github.com/cashbell/cashbell/internal/stripesim"
	"github.com/cashbell/cashbell/internal/testsupport/fakestripe"
	"github.com/cashbell/cashbell/internal/testsupport/testworld"
	"github.com/cashbell/cashbell/notifier"
	notify "github.com/cashbell/cashbell/notifier/desktop"
	"github.com/cashbell/cashbell/notifier/store"
)

// fileKeyNotes says what a Vault with a key file says, without the test's
// temporary path, which would differ in every golden image.
type fileKeyNotes struct{}

func (fileKeyNotes) Where() accounts.Storage { return accounts.StorageFile }
func (fileKeyNotes) KeyNote(accounts.Storage) string {
	return "No system keyring answered, so the key is kept in keys.json, readable only by you."
}
func (fileKeyNotes) Summary([]accounts.Account) string {
	return "No system keyring answered, so keys are kept in keys.json, readable only by you."
}

// fakePoller is a narrow hand-written mock: the UI only tells the poller to reload.
type fakePoller struct {
	mu      sync.Mutex
	reloads int
}

func (f *fakePoller) Reload() { f.mu.Lock(); f.reloads++; f.mu.Unlock() }

// fakeTray records what the tray would show.
type fakeTray struct {
	menu    *fyne.Menu
	icon    fyne.Resource
	tooltip string
}

// fakeBell rings nothing and counts the rings.
type fakeBell struct {
	how  string
	rang int
}

func (b *fakeBell) Bell(context.Context) string { return b.how }
func (b *fakeBell) Ring(context.Context) error  { b.rang++; return nil }

func (f *fakeTray) SetMenu(m *fyne.Menu)      { f.menu = m }
func (f *fakeTray) SetIcon(res fyne.Resource) { f.icon = res }
func (f *fakeTray) SetTooltip(text string)    { f.tooltip = text }

type fixture struct {
	bell   *fakeBell
	queue  chan func() // UI work from goroutines, run by the test goroutine
	app    fyne.App
	ui     *ui
	tray   *trayApp
	sim    *fakestripe.Stripe
	store  *store.Store
	reg    *accounts.Registry
	acct   string
	poll   *fakePoller
	opened []string
}

// The account and key are fixed so that goldens are stable.
const (
	fixedAccount = "acct_1GoldenAcmeBooks"
	fixedKey     = "rk_test_51GoldenKeyForCashbellTests000000000000000000000000000000000000000000000000000000000000ab12"
)

var testNow = time.Date(2026, 11, 24, 15, 4, 0, 0, time.UTC)

func newFixture(t testing.TB) *fixture {
	t.Helper()
	a := test.NewTempApp(t)
	w := testworld.New(t)
	sim, store, reg, dir := w.Sim, w.Store, w.Reg, w.Dir
	acct := sim.CreateAccount(stripesim.AccountSpec{ID: fixedAccount, DisplayName: "Acme Books"})
	f := &fixture{app: a, sim: sim, store: store, reg: reg, acct: acct, poll: &fakePoller{}, bell: &fakeBell{}, queue: make(chan func(), 1000)}
	queue = f.queue
	e := &env{
		money: notifier.NewMoney("en-US"), log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		now:     func() time.Time { return testNow },
		openURL: func(u string) { f.opened = append(f.opened, u) },
		do:      func(fn func()) { f.queue <- fn },
		inPlace: true,
	}
	src := sources{reg: reg, hist: notifier.History{Store: store}, prefs: store, poll: f.poll, keys: fileKeyNotes{},
		autostart: testAutostart(t, dir), bell: f.bell,
		addDemo: func(ctx context.Context) (accounts.AddResult, error) {
			conn, err := accounts.NewConnector(sim.URL)
			if err != nil {
				return accounts.AddResult{}, err
			}
			reg.SetDemo(conn)
			key, _ := accounts.ParseKey(sim.NewKey(acct, false, stripesim.Restricted, stripesim.AllPermissions...))
			return reg.Add(ctx, accounts.AddRequest{Key: key, Demo: true})
		},
	}
	f.ui = newUI(a, e, src)
	// The tray, with the windows in this process instead of their own.
	f.tray = &trayApp{env: e, src: src, ui: &inProcessUI{u: f.ui}, work: make(chan func(), 64), quitting: make(chan struct{})}
	f.tray.tray = newTray(nil, e, src, f.tray)
	return f
}

// inProcessUI hands the tray's commands to windows in this process,
// as the UI process does through internal/local.
type inProcessUI struct{ u *ui }

func (w *inProcessUI) Show(cmd local.Command) { w.u.command(cmd) }
func (w *inProcessUI) Send(cmd local.Command) { w.u.command(cmd) }
func (w *inProcessUI) Close()                 {}

// queue is the current test's UI queue. Fyne's test driver runs fyne.Do on
// the calling goroutine, so the tests play Fyne's main loop themselves: work
// from goroutines is queued and run here, on the test goroutine.
var queue chan func()

// waitUntil runs queued UI work until a condition holds.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		for drained := false; !drained; {
			select {
			case fn := <-queue:
				fn()
			default:
				drained = true
			}
		}
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// addAccount adds the fixture's Stripe account, with every permission.
func (f *fixture) addAccount(t testing.TB) accounts.Account {
	t.Helper()
	key, _ := accounts.ParseKey(f.key(stripesim.AllPermissions...))
	res, err := f.reg.Add(context.Background(), accounts.AddRequest{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	return res.Account
}

// at stops the clock of the windows and the tray at now.
func (f *fixture) at(now time.Time) {
	f.ui.env.now = func() time.Time { return now }
	f.tray.env.now = f.ui.env.now
}

// hostTray gives the tray a host that records what it shows, and shows.
func (f *fixture) hostTray() *fakeTray {
	host := &fakeTray{}
	f.tray.tray.host = host
	f.tray.tray.refresh()
	return host
}

func (f *fixture) key(perms ...string) string {
	return f.sim.NewKey(f.acct, false, stripesim.Restricted, perms...)
}

func TestAddAGoodKey(t *testing.T) {
	f := newFixture(t)
	p := f.ui.preferences()
	p.show()
	p.onAdd()
	d := p.add
	if !d.addBtn.Disabled() {
		t.Fatal("Add is enabled before a key")
	}
	test.Type(d.key, "pk_test_abcdefghijklmnop")
	if !strings.Contains(d.status.Text(), "publishable") || !d.addBtn.Disabled() {
		t.Fatalf("publishable key: %q", d.status.Text())
	}
	d.key.SetText("")
	test.Type(d.key, f.key(stripesim.AllPermissions...))
	waitUntil(t, "the check", func() bool { return !d.addBtn.Disabled() })
	if !strings.Contains(d.status.Text(), "The key works (test mode, "+fixedAccount+")") {
		t.Fatalf("status: %q", d.status.Text())
	}
	test.Tap(d.addBtn)
	waitUntil(t, "the account in the list", func() bool { return len(p.accounts) == 1 })
	a := p.accounts[0]
	if a.Name != "Acme Books" || a.Mode != accounts.ModeTest || a.Status != accounts.StatusOK {
		t.Fatalf("account %+v", a)
	}
	if f.poll.reloads == 0 {
		t.Fatal("the poller was not told about the new account")
	}
	// The list row shows the badge, the masked key and the status.
	row := newAccountRow(p)
	row.set(a)
	if row.badge.text.Text != "TEST" || !strings.Contains(row.detail.Text, a.KeyMasked) || row.status.Text != "Working" {
		t.Fatalf("row: %q %q %q", row.badge.text.Text, row.detail.Text, row.status.Text)
	}
}

func TestAddAKeyWithMissingPermissions(t *testing.T) {
	f := newFixture(t)
	p := f.ui.preferences()
	p.show()
	p.onAdd()
	d := p.add
	test.Type(d.key, f.key(stripesim.PermEventRead, stripesim.PermBalanceTransactionRead))
	waitUntil(t, "the check", func() bool { return !d.addBtn.Disabled() })
	// Adding is allowed, and the dialog says what it will cost.
	if !strings.Contains(d.cost.Text(), "Adding it now, Cashbell goes without Payments and refunds, Disputes, Customers") ||
		d.addBtn.Text != "Add without them" || d.status.text.Importance != widget.SuccessImportance {
		t.Fatalf("cost %q, button %q", d.cost.Text(), d.addBtn.Text)
	}
	text := allText(d.report)
	for _, want := range []string{"Customers", "rak_customer_read", "Missing: no customer in notifications", "rak_balance_transaction_source_read", "the fee and net amount",
		"the one write permission"} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
	tapButton(t, d.report, "Create a restricted key with every permission")
	if len(f.opened) != 1 || !strings.HasPrefix(f.opened[0], "https://dashboard.stripe.com/test/apikeys/create?") {
		t.Fatalf("opened %v", f.opened)
	}
	test.Tap(d.addBtn)
	waitUntil(t, "the account", func() bool { return len(p.accounts) == 1 })
	if p.accounts[0].Status != accounts.StatusMissingPermissions || !strings.HasPrefix(p.accounts[0].Name, "Stripe account") {
		t.Fatalf("%+v", p.accounts[0])
	}
}

func TestARevokedKeyOrOneWithoutEventsCannotBeAdded(t *testing.T) {
	f := newFixture(t)
	p := f.ui.preferences()
	p.show()
	p.onAdd()
	d := p.add
	revoked := f.key(stripesim.AllPermissions...)
	f.sim.RevokeKey(revoked)
	test.Type(d.key, revoked)
	waitUntil(t, "the check", func() bool { return strings.Contains(d.status.Text(), "revoked") })
	if !d.addBtn.Disabled() {
		t.Fatal("Add enabled for a revoked key")
	}
	// Refused outright: said on the key field, in the error colour, with no
	// list of permissions that could not be checked.
	if d.status.text.Importance != widget.DangerImportance || len(d.report.Objects) != 0 {
		t.Fatalf("refusal: importance %v, %d report rows", d.status.text.Importance, len(d.report.Objects))
	}
	d.key.SetText("")
	test.Type(d.key, f.key(stripesim.PermBalanceTransactionRead))
	waitUntil(t, "the check", func() bool { return strings.Contains(d.status.Text(), "cannot read events") })
	if !d.addBtn.Disabled() {
		t.Fatal("Add enabled for a key that cannot read events")
	}
}

func TestRemoveAsksFirst(t *testing.T) {
	f := newFixture(t)
	key, _ := accounts.ParseKey(f.key(stripesim.AllPermissions...))
	res, err := f.reg.Add(context.Background(), accounts.AddRequest{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	p := f.ui.preferences()
	p.show()
	// The row's menu has the account's actions, removal last.
	labels := menuLabels(p.menu(res.Account))
	if want := "Refresh from Stripe|Replace key…|Rename…|Choose logo…|Mute notifications|Open in Stripe||Remove account…"; strings.Join(labels, "|") != want {
		t.Fatalf("menu %q", strings.Join(labels, "|"))
	}
	p.listed(res.Account.ID, p.onRemove)()
	top := p.win.Canvas().Overlays().Top()
	if b := findButton(t, top, "Remove account"); b.Importance != widget.DangerImportance {
		t.Fatal("the destructive button is not marked as such")
	}
	tapButton(t, top, "Cancel")
	if len(p.accounts) != 1 {
		t.Fatal("removed without a yes")
	}
	// Esc is Cancel too; Enter does not destroy.
	p.listed(res.Account.ID, p.onRemove)()
	p.keys.typed(&fyne.KeyEvent{Name: fyne.KeyReturn})
	p.keys.typed(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if len(p.accounts) != 1 || p.win.Canvas().Overlays().Top() != nil {
		t.Fatal("Esc did not cancel, or Enter removed")
	}
	p.listed(res.Account.ID, p.onRemove)()
	tapButton(t, p.win.Canvas().Overlays().Top(), "Remove account")
	if len(p.accounts) != 0 {
		t.Fatal("not removed")
	}
	if list, _ := f.reg.List(context.Background()); len(list) != 0 {
		t.Fatal("still in the registry")
	}
}

func TestNotificationSwitchesAreSaved(t *testing.T) {
	f := newFixture(t)
	p := f.ui.preferences()
	p.show()
	n := p.notifs
	settings := func() store.Settings { set, _ := f.store.Settings(context.Background()); return set }
	test.Tap(n.types["sale"])
	n.interval.SetSelectedIndex(3)
	test.Tap(n.hideAmounts)
	if set := settings(); set.Enabled(notifier.KindSale) || !set.Enabled(notifier.KindRefund) ||
		set.Interval != time.Minute || !set.HideAmounts || set.QuietFrom != "" {
		t.Fatalf("settings %+v", set)
	}
	// Quiet hours: a switch, then pickers that can only hold a time.
	if !n.quietFrom.hour.Disabled() || n.quietFrom.value() != "22:00" {
		t.Fatalf("quiet hours off, yet the pickers are live or empty: %q", n.quietFrom.value())
	}
	test.Tap(n.quiet)
	if set := settings(); set.QuietFrom != "22:00" || set.QuietTo != "07:00" {
		t.Fatalf("quiet hours on: %q to %q", set.QuietFrom, set.QuietTo)
	}
	n.quietFrom.hour.SetSelected("23")
	n.quietFrom.minute.SetSelected("30")
	if set := settings(); set.QuietFrom != "23:30" || set.QuietTo != "07:00" {
		t.Fatalf("quiet hours: %q to %q", set.QuietFrom, set.QuietTo)
	}
	if !n.problem.Hidden {
		t.Fatalf("problem shown: %q", n.problem.Text)
	}
	autostart := func() {
		test.Tap(n.autostart)
		if !f.ui.src.autostart.Enabled() {
			t.Fatal("autostart entry not written")
		}
		test.Tap(n.autostart)
		if f.ui.src.autostart.Enabled() {
			t.Fatal("autostart entry not removed")
		}
	}
	autostart()
}

// The minimum amount is typed as a person types: nothing is judged, saved
// or wiped mid-way, even while the poller refreshes the window; it is
// checked when left or on Enter, decimals are welcome, and a mistake is
// said under the field and goes away once it is put right.
func TestTheMinimumAmountCanBeTyped(t *testing.T) {
	f := newFixture(t)
	p := f.ui.preferences()
	p.show()
	n := p.notifs
	p.tabs.SelectIndex(1)
	c := p.win.Canvas()
	minimum := func() int64 { set, _ := f.store.Settings(context.Background()); return set.Minimum }

	c.Focus(n.minimum)
	for _, r := range "5.50" {
		test.Type(n.minimum, string(r))
		p.refresh() // the poller found something meanwhile
		if !n.minimumErr.Hidden {
			t.Fatalf("an error while typing %q", n.minimum.Text)
		}
	}
	if n.minimum.Text != "5.50" || minimum() != 0 {
		t.Fatalf("mid-typing: field %q, saved %d", n.minimum.Text, minimum())
	}
	c.Unfocus()
	if minimum() != 5500 || !n.minimumErr.Hidden {
		t.Fatalf("left at 5.50: saved %d, error %q", minimum(), n.minimumErr.Text)
	}

	c.Focus(n.minimum)
	n.minimum.SetText("")
	test.Type(n.minimum, "ten")
	n.minimum.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if n.minimumErr.Hidden || n.minimum.Text != "ten" || minimum() != 5500 {
		t.Fatalf("ten: error shown %v, field %q, saved %d", !n.minimumErr.Hidden, n.minimum.Text, minimum())
	}
	p.refresh()
	if n.minimum.Text != "ten" {
		t.Fatalf("a refresh wiped what was typed: %q", n.minimum.Text)
	}
	n.minimum.SetText("")
	if !n.minimumErr.Hidden {
		t.Fatal("the error stays once the field is empty")
	}
	c.Unfocus()
	if minimum() != 0 {
		t.Fatalf("emptied: saved %d", minimum())
	}
}

func TestTrayShowsTodaysSalesAndLastEvents(t *testing.T) {
	f := newFixture(t)
	key, _ := accounts.ParseKey(f.key(stripesim.AllPermissions...))
	res, err := f.reg.Add(context.Background(), accounts.AddRequest{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	f.ui.env.now = func() time.Time { return now }
	evs := []store.Event{
		{ID: "evt_1", Type: "charge.succeeded", Created: now.Unix() - 60, Object: []byte(`{"id":"ch_1","amount":4900,"currency":"usd"}`)},
		{ID: "evt_2", Type: "charge.succeeded", Created: now.Unix() - 30, Object: []byte(`{"id":"ch_2","amount":500,"currency":"jpy"}`)},
		{ID: "evt_3", Type: "charge.failed", Created: now.Unix() - 10, Object: []byte(`{"id":"ch_3","amount":900,"currency":"usd"}`)},
		// Stripe's bookkeeping around a sale is not news of its own.
		{ID: "evt_4", Type: "charge.updated", Created: now.Unix() - 5, Object: []byte(`{"id":"ch_1","amount":4900,"currency":"usd"}`)},
		// A card hold and its capture are one sale, as in the chart.
		{ID: "evt_5", Type: "charge.succeeded", Created: now.Unix() - 50, Object: []byte(`{"id":"ch_4","amount":2000,"amount_captured":0,"captured":false,"currency":"usd"}`)},
		{ID: "evt_6", Type: "charge.captured", Created: now.Unix() - 40, Object: []byte(`{"id":"ch_4","amount":2000,"amount_captured":1500,"captured":true,"currency":"usd"}`)},
	}
	if _, err := f.store.Ingest(context.Background(), res.Account.ID, evs, nil, true); err != nil {
		t.Fatal(err)
	}
	host := &fakeTray{}
	f.tray.tray.host = host
	f.tray.tray.refresh()
	labels := menuLabels(host.menu)
	joined := strings.Join(labels, "\n")
	if strings.Contains(strings.Join(labels, "\n"), "charge updated") {
		t.Errorf("the menu lists a settlement as news: %q", labels)
	}
	if labels[0] != "⚠ 1 failed payment" {
		t.Errorf("what needs looking at is not first: %q", labels[0])
	}
	for _, want := range []string{"Acme Books: sales $64.00 · + 1 currency", "Payment failed · $9.00 — Acme Books", "Pause notifications", "Activity…", "Preferences…", "Quit"} {
		if !strings.Contains(joined, want) {
			t.Errorf("menu lacks %q:\n%s", want, joined)
		}
	}
	if host.icon != assets.TrayAttention || host.tooltip != "Cashbell: 1 failed payment to look at" {
		t.Fatalf("an unseen failed payment does not ask for attention: icon %v, tooltip %q", host.icon.Name(), host.tooltip)
	}
	for _, it := range f.tray.tray.menu.Items {
		if strings.HasPrefix(it.Label, "Payment failed") {
			it.Action()
		}
	}
	if len(f.opened) != 1 || f.opened[0] != "https://dashboard.stripe.com/test/payments/ch_3" {
		t.Fatalf("opened %v", f.opened)
	}
	f.ui.showActivity() // seeing it clears the attention
	f.tray.tray.refresh()
	if host.icon != assets.Tray || host.tooltip != "Cashbell: 3 sales today" {
		t.Fatalf("attention stays after the Activity window was seen: icon %v, tooltip %q", host.icon.Name(), host.tooltip)
	}
	// Pause for an hour from the menu.
	for _, it := range f.tray.tray.menu.Items {
		if it.Label == "Pause notifications" {
			it.ChildMenu.Items[0].Action()
		}
	}
	set, _ := f.store.Settings(context.Background())
	if !set.Paused(now) || set.Paused(now.Add(61*time.Minute)) {
		t.Fatalf("paused until %v", set.PausedUntil)
	}
	if want := "Cashbell: notifications paused until " + now.Add(time.Hour).Local().Format("15:04"); host.tooltip != want || host.icon != assets.TrayPaused {
		t.Fatalf("tooltip %q, want %q; icon %s", host.tooltip, want, host.icon.Name())
	}
}

func TestActivityPagesThroughALargeHistory(t *testing.T) {
	f := newFixture(t)
	key, _ := accounts.ParseKey(f.key(stripesim.AllPermissions...))
	res, _ := f.reg.Add(context.Background(), accounts.AddRequest{Key: key})
	var evs []store.Event
	for i := range 1000 {
		evs = append(evs, store.Event{ID: "evt_" + itoa3(i), Type: "charge.succeeded", Created: int64(1700000000 + i),
			Object: []byte(`{"id":"ch_1","amount":100,"currency":"usd"}`)})
	}
	if _, err := f.store.Ingest(context.Background(), res.Account.ID, evs, nil, false); err != nil {
		t.Fatal(err)
	}
	w := f.ui.activityWindow()
	w.show()
	if len(w.events) != activityPage || w.events[0].Event.ID != "evt_999" {
		t.Fatalf("first page: %d events, first %s", len(w.events), w.events[0].Event.ID)
	}
	w.list.ScrollToBottom()
	waitUntil(t, "more pages", func() bool { w.list.ScrollToBottom(); return len(w.events) == 1000 })
	if w.events[999].Event.ID != "evt_000" {
		t.Fatalf("last %s", w.events[999].Event.ID)
	}
	// A new event while the user is far down the list joins at the top;
	// what was scrolled to and selected stays.
	w.list.Select(900)
	late := store.Event{ID: "evt_new", Type: "charge.succeeded", Created: 1700009999, Object: []byte(`{"id":"ch_9","amount":100,"currency":"usd"}`)}
	if _, err := f.store.Ingest(context.Background(), res.Account.ID, []store.Event{late}, nil, false); err != nil {
		t.Fatal(err)
	}
	w.refresh()
	if len(w.events) != 1001 || w.events[0].Event.ID != "evt_new" || w.selected != 901 || w.events[901].Event.ID != "evt_099" {
		t.Fatalf("after a new event: %d rows, first %s, selected %d", len(w.events), w.events[0].Event.ID, w.selected)
	}
	w.typeFilter.SetSelectedIndex(5) // payouts paid
	if len(w.events) != 0 || w.count.Text != "No events yet" {
		t.Fatalf("filter: %d events", len(w.events))
	}
	w.typeFilter.SetSelectedIndex(0)
	w.open(0)
	if len(f.opened) != 1 || f.opened[0] != "https://dashboard.stripe.com/test/payments/ch_9" {
		t.Fatalf("opened %v", f.opened)
	}
}

func TestFirstLaunchOpensAdd(t *testing.T) {
	f := newFixture(t)
	f.tray.start(false)
	if !f.ui.preferences().win.Content().Visible() || f.ui.preferences().win.Canvas().Overlays().Top() == nil {
		t.Fatal("Preferences did not open at Add")
	}
}

// update rewrites the golden images instead of comparing with them:
// go test ./app -run TestGoldens -update, then look at the new pictures.
var update = flag.Bool("update", false, "rewrite the golden images in testdata/")

// assertGolden compares a capture with testdata/<name>; a mismatch is saved
// in testdata/failed/ to look at.
func assertGolden(t *testing.T, name string, img image.Image) {
	t.Helper()
	if *update {
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("testdata", name), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	test.AssertImageMatches(t, name, img)
}

func TestGoldens(t *testing.T) {
	f := newFixture(t)
	f.sim.AdoptKey(fixedKey, fixedAccount, false, stripesim.Restricted, stripesim.PermEventRead, stripesim.PermBalanceTransactionRead, stripesim.PermPayoutRead)
	p := f.ui.preferences()
	p.win.Resize(fyne.NewSize(760, 540))
	p.show()
	p.tabs.SelectIndex(1)
	assertGolden(t, "preferences_notifications.png", p.win.Canvas().Capture())
	p.onAdd()
	test.Type(p.add.key, fixedKey)
	waitUntil(t, "the check", func() bool { return !p.add.addBtn.Disabled() })
	assertGolden(t, "add_dialog_report.png", p.win.Canvas().Capture())
}

func itoa3(i int) string {
	return string([]byte{byte('0' + i/100%10), byte('0' + i/10%10), byte('0' + i%10)})
}

// menuLabels are the labels a person sees: hidden slots (no label, not a
// separator) are left out.
func menuLabels(m *fyne.Menu) []string {
	var out []string
	for _, it := range m.Items {
		if it.Label == "" && !it.IsSeparator {
			continue
		}
		out = append(out, it.Label)
		if it.ChildMenu != nil {
			out = append(out, menuLabels(it.ChildMenu)...)
		}
	}
	return out
}

func allText(o fyne.CanvasObject) string {
	var b strings.Builder
	walk(o, func(o fyne.CanvasObject) {
		switch x := o.(type) {
		case *widget.Label:
			b.WriteString(x.Text + "\n")
		case *widget.RichText:
			b.WriteString(x.String() + "\n")
		}
	})
	return b.String()
}

func settledText(r *eventRow) string { return r.settled.String() }

func findButton(t *testing.T, root fyne.CanvasObject, label string) *widget.Button {
	t.Helper()
	var found *widget.Button
	walk(root, func(o fyne.CanvasObject) {
		if b, ok := o.(*widget.Button); ok && b.Text == label && found == nil {
			found = b
		}
	})
	if found == nil {
		t.Fatalf("no button %q", label)
	}
	return found
}

func tapButton(t *testing.T, root fyne.CanvasObject, label string) {
	t.Helper()
	test.Tap(findButton(t, root, label))
}

func walk(o fyne.CanvasObject, visit func(fyne.CanvasObject)) {
	if o == nil {
		return
	}
	visit(o)
	switch x := o.(type) {
	case *fyne.Container:
		for _, c := range x.Objects {
			walk(c, visit)
		}
	case fyne.Widget:
		r := test.WidgetRenderer(x)
		for _, c := range r.Objects() {
			walk(c, visit)
		}
	}
}

// BenchmarkActivityWith100000Events opens the Activity window over a store of
// 100,000 events and pages further in: the list is virtual and reads the store
// one page at a time, so neither depends on the size of the history.
func BenchmarkActivityWith100000Events(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	var ids []string
	for i := range 4 {
		key, _ := accounts.ParseKey(f.sim.NewKey(f.sim.CreateAccount(stripesim.AccountSpec{DisplayName: "Shop " + itoa3(i)}), false, stripesim.Restricted, stripesim.AllPermissions...))
		res, err := f.reg.Add(ctx, accounts.AddRequest{Key: key})
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, res.Account.ID)
	}
	object := []byte(`{"id":"ch_1","amount":4900,"currency":"usd","billing_details":{"email":"jane@example.com","address":{"country":"FR"}}}`)
	for batch := range 100 {
		evs := make([]store.Event, 1000)
		for i := range evs {
			n := batch*1000 + i
			// One every 20 s over the last 23 days: all of them in the chart.
			evs[i] = store.Event{ID: "evt_" + strconv.Itoa(n), Type: "charge.succeeded", Created: time.Now().Unix() - int64(100000-n)*20, Object: object}
		}
		if _, err := f.store.Ingest(ctx, ids[batch%4], evs, nil, false); err != nil {
			b.Fatal(err)
		}
	}
	w := f.ui.activityWindow()
	b.ResetTimer()
	start := time.Now()
	w.show()
	opened := time.Since(start)
	start = time.Now()
	for range 10 {
		w.loadMore()
		for w.loading {
			(<-queue)()
		}
	}
	paged := time.Since(start) / 10
	b.StopTimer()
	if len(w.events) != 11*activityPage {
		b.Fatalf("%d events loaded", len(w.events))
	}
	waitUntil2(b, func() bool { return !w.chart.summing })
	start = time.Now()
	days, err := w.chart.hist.SumDays(ctx, nil, time.Now(), chartDays)
	summed := time.Since(start)
	if err != nil || days.Sales["usd"] != 100000 {
		b.Fatalf("the month: %v, %d sales", err, days.Sales["usd"])
	}
	b.ReportMetric(float64(opened.Microseconds())/1000, "ms-open")
	b.ReportMetric(float64(paged.Microseconds())/1000, "ms/page")
	b.ReportMetric(float64(summed.Microseconds())/1000, "ms-chart")
	fmt.Printf("Activity over 100,000 events: opens in %s, each further page of %d in %s; the 30-day chart sums them in %s (in the background)\n",
		opened.Round(10*time.Microsecond), activityPage, paged.Round(10*time.Microsecond), summed.Round(time.Millisecond))
}

// Ctrl+W hides a window, as its close button does, and lets the idle loop
// park again.
func TestCtrlWHidesAWindow(t *testing.T) {
	f := newFixture(t)
	for name, open := range map[string]func() fyne.Window{
		"Preferences": func() fyne.Window { f.ui.showPrefs(); return f.ui.prefs.win },
		"Activity":    func() fyne.Window { f.ui.showActivity(); return f.ui.activity.win },
	} {
		w := open()
		if !f.ui.windowShown() {
			t.Fatalf("%s: not shown after opening", name)
		}
		w.Canvas().(interface{ TypedShortcut(fyne.Shortcut) }).TypedShortcut(
			&desktop.CustomShortcut{KeyName: fyne.KeyW, Modifier: fyne.KeyModifierShortcutDefault})
		if f.ui.windowShown() {
			t.Errorf("%s: still shown after Ctrl+W", name)
		}
	}
}

// Text from the network shows as one plain, short line in the tray and the
// Activity window, whoever wrote it.
func TestNetworkTextIsPlainInTheTrayAndActivity(t *testing.T) {
	f := newFixture(t)
	key, _ := accounts.ParseKey(f.key(stripesim.AllPermissions...))
	res, err := f.reg.Add(context.Background(), accounts.AddRequest{Key: key, Name: "Evil <b>Shop</b>\u202E\nline two"})
	if err != nil {
		t.Fatal(err)
	}
	evil := "Fish & Chips\u202Egnp.exe\nsecond line\x1b[2J" + strings.Repeat("!", 10<<10)
	desc, _ := json.Marshal(evil)
	ev := store.Event{ID: "evt_1", Type: "charge.succeeded", Created: testNow.Unix(),
		Object: []byte(`{"id":"ch_1","amount":7404,"currency":"usd","description":` + string(desc) + `}`)}
	if _, err := f.store.Ingest(context.Background(), res.Account.ID, []store.Event{ev}, nil, false); err != nil {
		t.Fatal(err)
	}
	host := &fakeTray{}
	f.tray.tray.host = host
	f.tray.tray.refresh()
	w := f.ui.activityWindow()
	w.show()
	row := newEventRow(w)
	row.set(0, w.events[0])
	texts := append(menuLabels(host.menu), row.title.Text, row.body.Text, host.tooltip)
	for _, s := range texts {
		if strings.ContainsAny(s, "\n\r\x1b\u202E") || len([]rune(s)) > 300 {
			t.Errorf("not one plain short line: %q", s)
		}
	}
	if !strings.Contains(strings.Join(texts, "\n"), "Evil <b>Shop</b> line two") {
		t.Fatalf("the account name is not shown as written: %q", texts)
	}
}

// A sale notified before Stripe settled it shows its fee and net in Activity
// once they are known, and not while amounts are hidden.
func TestActivityShowsFeeAndNetOnceSettled(t *testing.T) {
	f := newFixture(t)
	key, _ := accounts.ParseKey(f.key(stripesim.AllPermissions...))
	res, err := f.reg.Add(context.Background(), accounts.AddRequest{Key: key, Name: "Shop"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ev := store.Event{ID: "evt_1", Type: "charge.succeeded", Created: testNow.Unix(),
		Object: []byte(`{"id":"ch_1","object":"charge","amount":10000,"currency":"usd","balance_transaction":null}`)}
	if _, err := f.store.Ingest(ctx, res.Account.ID, []store.Event{ev}, nil, false); err != nil {
		t.Fatal(err)
	}
	w := f.ui.activityWindow()
	w.show()
	row := newEventRow(w)
	row.set(0, w.events[0])
	if settledText(row) != "" {
		t.Fatalf("fee before settlement: %q", settledText(row))
	}
	if err := f.store.SaveFacts(ctx, res.Account.ID, "ch_1", store.Facts{Fee: 320, Net: 9680, NetCur: "usd"}); err != nil {
		t.Fatal(err)
	}
	w.refresh()
	row.set(0, w.events[0])
	if settledText(row) != "net $96.80 · fee $3.20" || row.amount.Text != "$100.00" || row.title.Text != "New sale" {
		t.Fatalf("settled %q, amount %q, title %q", settledText(row), row.amount.Text, row.title.Text)
	}
	set, _ := f.store.Settings(ctx)
	set.HideAmounts = true
	if err := f.store.SaveSettings(ctx, set); err != nil {
		t.Fatal(err)
	}
	w.refresh()
	row.set(0, w.events[0])
	if settledText(row) != "" || row.amount.Text != "•••" {
		t.Fatalf("amounts hidden but %q %q", settledText(row), row.amount.Text)
	}
}

// Keyboard: in the add dialog Esc cancels from the key field and Enter adds
// once the key is good; in Activity the arrows select a row, Enter opens it,
// and "Open in Stripe" does the same for the mouse.
func TestTheKeyboardWorksInDialogsAndActivity(t *testing.T) {
	f := newFixture(t)
	p := f.ui.preferences()
	p.show()
	p.onAdd()
	d := p.add
	c := p.win.Canvas()
	if c.Focused() != d.key {
		t.Fatal("the key field does not have the focus")
	}
	d.key.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if c.Overlays().Top() != nil {
		t.Fatal("Esc in the key field did not cancel")
	}
	p.onAdd()
	test.Type(d.key, f.key(stripesim.AllPermissions...))
	waitUntil(t, "the check", func() bool { return !d.addBtn.Disabled() })
	d.key.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	waitUntil(t, "the account", func() bool { return len(p.accounts) == 1 })
	if c.Overlays().Top() != nil {
		t.Fatal("the dialog stays after Enter added the account")
	}
	// Nothing focused: the canvas passes Esc to the dialog on top.
	p.onAdd()
	c.Unfocus()
	p.keys.typed(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if c.Overlays().Top() != nil {
		t.Fatal("Esc did not cancel")
	}

	ctx := context.Background()
	evs := []store.Event{
		{ID: "evt_1", Type: "charge.succeeded", Created: testNow.Unix() - 60, Object: []byte(`{"id":"ch_1","amount":4900,"currency":"usd"}`)},
		{ID: "evt_2", Type: "charge.succeeded", Created: testNow.Unix() - 30, Object: []byte(`{"id":"ch_2","amount":500,"currency":"usd"}`)},
	}
	if _, err := f.store.Ingest(ctx, p.accounts[0].ID, evs, nil, false); err != nil {
		t.Fatal(err)
	}
	w := f.ui.activityWindow()
	w.show()
	if w.win.Canvas().Focused() != w.list || !w.openBtn.Disabled() {
		t.Fatal("Activity opens without the list focused, or with Open enabled")
	}
	w.list.TypedKey(&fyne.KeyEvent{Name: fyne.KeyDown})
	w.list.TypedKey(&fyne.KeyEvent{Name: fyne.KeyDown})
	w.list.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if len(f.opened) != 1 || f.opened[0] != "https://dashboard.stripe.com/test/payments/ch_1" {
		t.Fatalf("Enter on the second row opened %v", f.opened)
	}
	w.list.TypedKey(&fyne.KeyEvent{Name: fyne.KeyUp})
	test.Tap(w.openBtn)
	if len(f.opened) != 2 || f.opened[1] != "https://dashboard.stripe.com/test/payments/ch_2" {
		t.Fatalf("Open in Stripe opened %v", f.opened)
	}
	// Esc closes the window (it hides: Cashbell stays in the tray).
	w.list.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if w.shown {
		t.Fatal("Esc left Activity open")
	}
}

// Windows fit the screen they open on: at 150 % a 1024×768 screen is
// 682×512 units, and neither window asks for more, nor needs more.
func TestWindowsFitASmallScreen(t *testing.T) {
	f := newFixture(t)
	screen := fyne.NewSize(1024/1.5, 768/1.5)
	f.ui.env.screen = func(fyne.Window) (fyne.Size, bool) { return screen, true }
	key, _ := accounts.ParseKey(f.key(stripesim.AllPermissions...))
	if _, err := f.reg.Add(context.Background(), accounts.AddRequest{Key: key, Name: "A shop with a very long name indeed, longer than any"}); err != nil {
		t.Fatal(err)
	}
	f.ui.showPrefs()
	f.ui.showActivity()
	for _, w := range []fyne.Window{f.ui.prefs.win, f.ui.activity.win} {
		size, needs := w.Canvas().Size(), w.Content().MinSize()
		if size.Width > screen.Width || size.Height > screen.Height {
			t.Errorf("%s opens at %v on a screen of %v", w.Title(), size, screen)
		}
		if needs.Width > screen.Width*0.9 || needs.Height > screen.Height*0.9 {
			t.Errorf("%s needs %v on a screen of %v", w.Title(), needs, screen)
		}
	}
	if got := fitSize(fyne.NewSize(720, 520), fyne.NewSize(1920, 1080)); got != fyne.NewSize(720, 520) {
		t.Errorf("a big screen shrinks the window: %v", got)
	}
}

// The amount has a column of its own that is never cut short, even at the
// narrowest window and with a long account name; the account's name moves to
// the second line and leaves when only one account is shown.
func TestActivityNeverHidesTheMoney(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var ids []string
	for _, name := range []string{"A shop with a very long name indeed, longer than any window is wide", "B"} {
		key, _ := accounts.ParseKey(f.sim.NewKey(f.sim.CreateAccount(stripesim.AccountSpec{DisplayName: name}), false, stripesim.Restricted, stripesim.AllPermissions...))
		res, err := f.reg.Add(ctx, accounts.AddRequest{Key: key})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.Account.ID)
	}
	ev := store.Event{ID: "evt_1", Type: "charge.dispute.created", Created: testNow.Unix(),
		Object: []byte(`{"id":"dp_1","amount":1234567,"currency":"usd","charge":"ch_1","reason":"fraudulent"}`)}
	if _, err := f.store.Ingest(ctx, ids[0], []store.Event{ev}, nil, false); err != nil {
		t.Fatal(err)
	}
	w := f.ui.activityWindow()
	w.show()
	w.win.Resize(w.win.Content().MinSize())
	row := newEventRow(w)
	row.set(0, w.events[0])
	row.Resize(fyne.NewSize(w.win.Content().MinSize().Width, row.MinSize().Height))
	test.WidgetRenderer(row).Layout(row.Size())
	if row.amount.Text != "$12,345.67" || row.amount.Size().Width < row.amount.MinSize().Width {
		t.Fatalf("amount %q shown in %v of %v", row.amount.Text, row.amount.Size(), row.amount.MinSize())
	}
	if !strings.HasPrefix(row.body.Text, "A shop with a very long name") || row.title.Text != "New dispute" || row.title.Importance != widget.DangerImportance {
		t.Fatalf("title %q, body %q", row.title.Text, row.body.Text)
	}
	w.accountFilter.SetSelectedIndex(1)
	row.set(0, w.events[0])
	if row.body.Text != "reason: fraudulent" {
		t.Fatalf("one account shown, yet the body names it: %q", row.body.Text)
	}
}

// --demo a second time shows Preferences with the demo account, not the
// add dialog over an empty key.
func TestDemoAgainOpensNoAddDialog(t *testing.T) {
	f := newFixture(t)
	if _, err := f.ui.src.addDemo(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.tray.start(true)
	if top := f.ui.prefs.win.Canvas().Overlays().Top(); top != nil {
		t.Fatal("the add dialog opened over an account that is there")
	}
}

// The tray host updates a menu of the same shape in place: only a change
// of structure builds it again.
func TestTrayMenuShape(t *testing.T) {
	item := func(l string) *fyne.MenuItem { return fyne.NewMenuItem(l, nil) }
	a := []*fyne.MenuItem{item("Today"), item("Acme: $1.00 · 1 sale"), fyne.NewMenuItemSeparator(), item("Quit")}
	b := []*fyne.MenuItem{item("Today"), item("Acme: $2.00 · 2 sales"), fyne.NewMenuItemSeparator(), item("Quit")}
	c := []*fyne.MenuItem{item("⚠ 1 dispute"), fyne.NewMenuItemSeparator(), item("Today"), item("Acme: $2.00 · 2 sales"), fyne.NewMenuItemSeparator(), item("Quit")}
	if menuShape(a) != menuShape(b) || menuShape(a) == menuShape(c) {
		t.Fatalf("shapes %q %q %q", menuShape(a), menuShape(b), menuShape(c))
	}
}

// A secret key works, with a warning that carries its weight and a button
// to make a restricted key, not a long address to copy.
func TestASecretKeyIsWarnedAbout(t *testing.T) {
	f := newFixture(t)
	p := f.ui.preferences()
	p.show()
	p.onAdd()
	d := p.add
	test.Type(d.key, f.sim.NewKey(f.acct, false, stripesim.Secret))
	waitUntil(t, "the check", func() bool { return !d.addBtn.Disabled() })
	if d.status.text.Importance != widget.WarningImportance || !strings.Contains(d.status.Text(), "secret key") || strings.Contains(d.status.Text(), "https://") {
		t.Fatalf("status %q (importance %v)", d.status.Text(), d.status.text.Importance)
	}
	test.Tap(d.create)
	if len(f.opened) != 1 || !strings.HasPrefix(f.opened[0], "https://dashboard.stripe.com/test/apikeys/create?") {
		t.Fatalf("opened %v", f.opened)
	}
}

// The bell is a switch per kind: sales ring by default, others do not.
func TestSoundSwitches(t *testing.T) {
	f := newFixture(t)
	p := f.ui.preferences()
	p.show()
	n := p.notifs
	if !n.sounds["sale"].Checked || n.sounds["refund"].Checked {
		t.Fatal("by default sales ring and refunds do not")
	}
	test.Tap(n.sounds["sale"])
	test.Tap(n.sounds["payout"])
	set, _ := f.store.Settings(context.Background())
	if set.Rings("sale", notifier.KindByID("sale").Rings) || !set.Rings("payout", notifier.KindByID("payout").Rings) || set.Rings("refund", notifier.KindByID("refund").Rings) {
		t.Fatalf("sounds %v", set.Sounds)
	}
}

// A click on a notification: one happening opens its page, a burst shows
// its account's events in Activity.
func TestAClickOnANotification(t *testing.T) {
	f := newFixture(t)
	key, _ := accounts.ParseKey(f.key(stripesim.AllPermissions...))
	res, err := f.reg.Add(context.Background(), accounts.AddRequest{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	f.tray.clicked(notify.Action{Notification: notify.Notification{URL: "https://dashboard.stripe.com/test/payments/ch_1"}, Key: "default"})
	if len(f.opened) != 1 || f.opened[0] != "https://dashboard.stripe.com/test/payments/ch_1" {
		t.Fatalf("opened %v", f.opened)
	}
	f.tray.clicked(notify.Action{Notification: notify.Notification{Burst: true, Account: res.Account.ID, URL: "https://dashboard.stripe.com/test/dashboard"}, Key: "default"})
	w := f.ui.activity
	if w == nil || !w.shown || w.accountFilter.SelectedIndex() != 1 || len(f.opened) != 1 {
		t.Fatal("a burst did not show its account's events")
	}
}

// Activity opens on the last 30 days: sales less refunds per day in the
// busiest currency, with today's, the week's and the month's totals in the
// user's locale, for all accounts or the one chosen; nothing is asked of
// Stripe for it.
func TestActivityOpensOnTheMonth(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var ids []string
	for _, name := range []string{"Acme", "Other"} {
		key, _ := accounts.ParseKey(f.sim.NewKey(f.sim.CreateAccount(stripesim.AccountSpec{DisplayName: name}), false, stripesim.Restricted, stripesim.AllPermissions...))
		res, err := f.reg.Add(ctx, accounts.AddRequest{Key: key})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.Account.ID)
	}
	now := time.Now()
	f.ui.env.now = func() time.Time { return now }
	day := func(ago int) int64 { return now.AddDate(0, 0, -ago).Unix() }
	evs := []store.Event{
		{ID: "evt_1", Type: "charge.succeeded", Created: day(0), Object: []byte(`{"id":"ch_1","amount":4900,"currency":"usd"}`)},
		{ID: "evt_2", Type: "charge.succeeded", Created: day(3), Object: []byte(`{"id":"ch_2","amount":10000,"currency":"usd"}`)},
		{ID: "evt_3", Type: "refund.created", Created: day(2), APIVersion: "2025-03-31.basil", Object: []byte(`{"id":"re_1","object":"refund","amount":2500,"currency":"usd","charge":"ch_2"}`)},
		{ID: "evt_4", Type: "charge.succeeded", Created: day(20), Object: []byte(`{"id":"ch_3","amount":100000,"currency":"usd"}`)},
		{ID: "evt_5", Type: "charge.succeeded", Created: day(1), Object: []byte(`{"id":"ch_4","amount":500,"currency":"jpy"}`)},
		{ID: "evt_6", Type: "refund.created", Created: day(0), APIVersion: "2025-03-31.basil", Object: []byte(`{"id":"re_2","object":"refund","amount":900,"currency":"usd","charge":"ch_1"}`)},
	}
	if _, err := f.store.Ingest(ctx, ids[0], evs, nil, false); err != nil {
		t.Fatal(err)
	}
	other := []store.Event{{ID: "evt_9", Type: "charge.succeeded", Created: day(0), Object: []byte(`{"id":"ch_9","amount":700,"currency":"usd"}`)}}
	if _, err := f.store.Ingest(ctx, ids[1], other, nil, false); err != nil {
		t.Fatal(err)
	}
	before := f.sim.Requests()
	w := f.ui.activityWindow()
	w.show()
	c := w.chart
	waitUntil(t, "the month summed", func() bool { return !c.summing && !c.summedAt.IsZero() })
	// Today is one figure, as the tray says it: sales, and refunds apart.
	if want := "Today: sales $56.00 · refunds \u2212$9.00"; c.totals.Text != want || c.weekLine.Text != "7 days: net $122.00 · 30 days: net $1,122.00" {
		t.Fatalf("totals %q / %q, want %q", c.totals.Text, c.weekLine.Text, want)
	}
	// A bar pointed at says its day's value.
	c.bars.Resize(fyne.NewSize(float32(chartDays*10), 72))
	c.bars.Tapped(&fyne.PointEvent{Position: fyne.NewPos(float32(chartDays*10)-5, 10)})
	if c.note.Text != time.Now().Format("2 Jan")+": net $47.00" {
		t.Fatalf("the pointed day says %q", c.note.Text)
	}
	// A refund's row is negative, with an icon of its own.
	for i, h := range w.events {
		if h.Kind != nil && h.Kind.ID == notifier.KindRefund {
			r := newEventRow(w)
			r.set(i, h)
			if !strings.HasPrefix(r.amount.Text, "\u2212$") || r.logo.Resource != theme.ContentUndoIcon() {
				t.Fatalf("a refund's row: amount %q, icon %v", r.amount.Text, r.logo.Resource)
			}
		}
	}
	if c.currency.Hidden || strings.Join(c.currency.Options, ",") != "USD,JPY" || len(c.bars.values) != chartDays || c.bars.values[chartDays-1] != 4700 {
		t.Fatalf("currencies %v, bars %v", c.currency.Options, c.bars.values)
	}
	c.currency.SetSelected("JPY")
	if c.totals.Text != "Today: sales ¥0" || c.weekLine.Text != "7 days: net ¥500 · 30 days: net ¥500" {
		t.Fatalf("yen: %q / %q", c.totals.Text, c.weekLine.Text)
	}
	w.accountFilter.SetSelectedIndex(2) // Other
	waitUntil(t, "the account summed", func() bool { return !c.summing && c.account == ids[1] })
	if c.totals.Text != "Today: sales $7.00" || c.weekLine.Text != "7 days: net $7.00 · 30 days: net $7.00" || !c.currency.Hidden {
		t.Fatalf("one account: %q / %q", c.totals.Text, c.weekLine.Text)
	}
	if n := f.sim.Requests() - before; n != 0 {
		t.Fatalf("the chart asked Stripe %d times", n)
	}

	// A click on a burst opens a new Activity on its account while the
	// month of every account is still being summed: the account's figures
	// win, and hiding amounts meanwhile hides them.
	w.win.Hide()
	f.ui.activity = nil
	w = f.ui.activityWindow()
	w.show()
	c = w.chart
	w.showAccount(ids[1])
	if !c.summing {
		t.Fatal("the first sum was over before the click; the test proves nothing")
	}
	set, _ := f.store.Settings(ctx)
	set.HideAmounts = true
	if err := f.store.SaveSettings(ctx, set); err != nil {
		t.Fatal(err)
	}
	w.reload() // as after the switch in the tray
	if !c.summing {
		t.Fatal("the first sum was over before amounts were hidden")
	}
	waitUntil(t, "the clicked account summed", func() bool { return !c.summing && !c.summedAt.IsZero() })
	if c.account != ids[1] || c.totals.Text != "Today: •••" || c.weekLine.Text != "7 days: net ••• · 30 days: net •••" || c.days.Total("usd", chartDays) != 700 {
		t.Fatalf("after a click while summing: account %s, %q, $%d over 30 days", c.account, c.totals.Text, c.days.Total("usd", chartDays))
	}
}

// waitUntil2 runs queued UI work until cond holds (a benchmark's waitUntil).
func waitUntil2(b *testing.B, cond func() bool) {
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		select {
		case fn := <-queue:
			fn()
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			b.Fatal("timed out")
		}
	}
}

// While events arrive the tray menu keeps its shape, so the host updates
// it in place and an open submenu (Pause) keeps its items: a menu built
// again under it showed it empty.
func TestTrayMenuKeepsItsShapeWhileEventsArrive(t *testing.T) {
	f := newFixture(t)
	acct := f.addAccount(t)
	now := time.Now()
	f.at(now)
	host := f.hostTray()
	shape := menuShape(host.menu.Items)
	objects := []string{
		`{"id":"ch_1","amount":4900,"currency":"usd"}`, `{"id":"ch_2","amount":500,"currency":"jpy"}`,
		`{"id":"ch_3","amount":900,"currency":"eur"}`, `{"id":"ch_4","amount":100,"currency":"usd"}`,
		`{"id":"ch_5","amount":2500,"currency":"gbp"}`, `{"id":"ch_6","amount":4900,"currency":"usd"}`,
	}
	for i, o := range objects {
		typ := "charge.succeeded"
		if i%3 == 2 {
			typ = "charge.failed" // news that asks for attention
		}
		e := store.Event{ID: fmt.Sprintf("evt_%d", i), Type: typ, Created: now.Unix() - int64(60-i), Object: []byte(o)}
		if _, err := f.store.Ingest(context.Background(), acct.ID, []store.Event{e}, nil, true); err != nil {
			t.Fatal(err)
		}
		f.tray.tray.refresh()
		if got := menuShape(host.menu.Items); got != shape {
			t.Fatalf("after event %d the menu's shape changed from %q to %q: the host would build it again", i, shape, got)
		}
		for _, it := range host.menu.Items {
			if it.Label == "Pause notifications" && (it.ChildMenu == nil || len(it.ChildMenu.Items) != 3) {
				t.Fatalf("after event %d the pause submenu is %+v", i, it.ChildMenu)
			}
		}
	}
	if labels := strings.Join(menuLabels(host.menu), "\n"); !strings.Contains(labels, "⚠ 2 failed payments") {
		t.Fatalf("the menu does not show the failures:\n%s", labels)
	}
}

// Three accounts selling in four currencies each fit a 768-pixel screen:
// one line per account, its leading currency first.
func TestTrayMenuFitsTheScreen(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	f.at(now)
	for i, name := range []string{"Acme", "Globex", "Initech"} {
		key, _ := accounts.ParseKey(f.sim.NewKey(f.sim.CreateAccount(stripesim.AccountSpec{DisplayName: name}), false, stripesim.Restricted, stripesim.AllPermissions...))
		res, err := f.reg.Add(context.Background(), accounts.AddRequest{Key: key})
		if err != nil {
			t.Fatal(err)
		}
		var evs []store.Event
		for j, cur := range []string{"usd", "usd", "eur", "gbp", "jpy"} {
			evs = append(evs, store.Event{ID: fmt.Sprintf("evt_%d_%d", i, j), Type: "charge.succeeded", Created: now.Unix() - 60,
				Object: []byte(fmt.Sprintf(`{"id":"ch_%d_%d","amount":1000,"currency":%q}`, i, j, cur))})
		}
		if _, err := f.store.Ingest(context.Background(), res.Account.ID, evs, nil, true); err != nil {
			t.Fatal(err)
		}
	}
	host := f.hostTray()
	var shown []string
	height := 0 // at 100 %: a row is about 30 px, a separator 8
	for _, it := range host.menu.Items {
		switch {
		case it.IsSeparator:
			height += 8
		case it.Label != "":
			height += 30
		default:
			continue
		}
		shown = append(shown, it.Label)
	}
	// At 150 %, on a 768-pixel screen, less a 40-pixel panel.
	if height*3/2 > 768-40 {
		t.Fatalf("%d px at 150 %%:\n%s", height*3/2, strings.Join(shown, "\n"))
	}
	joined := strings.Join(shown, "\n")
	for _, want := range []string{"Acme: sales $20.00 · + 3 currencies", "Globex: sales $20.00 · + 3 currencies", "Initech: sales $20.00 · + 3 currencies"} {
		if !strings.Contains(joined, want) {
			t.Errorf("menu lacks %q:\n%s", want, joined)
		}
	}
}

// The tray counts every unseen piece of bad news, not only the newest 200
// events'; its item opens Activity on that kind, and seeing them clears
// that kind alone.
func TestUnseenBadNewsPastTwoHundred(t *testing.T) {
	f := newFixture(t)
	acct := f.addAccount(t)
	now := time.Now()
	f.at(now)
	var evs []store.Event
	add := func(typ, object string) {
		evs = append(evs, store.Event{ID: fmt.Sprintf("evt_%04d", len(evs)), Type: typ, Created: now.Unix() - 3600 + int64(len(evs)), Object: []byte(object)})
	}
	for i := range 250 {
		add("charge.failed", fmt.Sprintf(`{"id":"ch_f%d","amount":100,"currency":"usd","failure_message":"Your card was declined."}`, i))
	}
	add("charge.dispute.created", `{"id":"dp_1","amount":4900,"currency":"usd","charge":"ch_1","reason":"fraudulent","status":"needs_response"}`)
	for i := range 300 {
		add("charge.succeeded", fmt.Sprintf(`{"id":"ch_s%d","amount":1000,"currency":"usd"}`, i))
	}
	if _, err := f.store.Ingest(context.Background(), acct.ID, evs, nil, true); err != nil {
		t.Fatal(err)
	}
	host := f.hostTray()
	labels := strings.Join(menuLabels(host.menu), "\n")
	if !strings.Contains(labels, "⚠ 250 failed payments") || !strings.Contains(labels, "⚠ 1 dispute") {
		t.Fatalf("the menu undercounts:\n%s", labels)
	}
	for _, it := range host.menu.Items {
		if it.Label == "⚠ 250 failed payments" {
			it.Action()
		}
	}
	w := f.ui.activity
	if w == nil || w.typeFilter.Selected != "Failed payments" || len(w.events) == 0 || w.events[0].What() != "Payment failed" {
		t.Fatalf("Activity is not on the failed payments: %+v", w)
	}
	f.tray.tray.refresh()
	labels = strings.Join(menuLabels(host.menu), "\n")
	if strings.Contains(labels, "failed payments") || !strings.Contains(labels, "⚠ 1 dispute") {
		t.Fatalf("seeing the failed payments cleared the wrong items:\n%s", labels)
	}
}

// Quiet hours show in the tray: its icon, its tooltip and the pause item
// say so, above the attention a failure asks for.
func TestTrayShowsQuietHours(t *testing.T) {
	f := newFixture(t)
	acct := f.addAccount(t)
	now := time.Date(2026, 12, 6, 23, 30, 0, 0, time.Local)
	f.at(now)
	set, _ := f.store.Settings(context.Background())
	set.QuietFrom, set.QuietTo = "22:00", "07:00"
	if err := f.store.SaveSettings(context.Background(), set); err != nil {
		t.Fatal(err)
	}
	e := store.Event{ID: "evt_1", Type: "charge.failed", Created: now.Unix() - 60, Object: []byte(`{"id":"ch_1","amount":900,"currency":"usd"}`)}
	if _, err := f.store.Ingest(context.Background(), acct.ID, []store.Event{e}, nil, true); err != nil {
		t.Fatal(err)
	}
	host := f.hostTray()
	labels := strings.Join(menuLabels(host.menu), "\n")
	if host.icon != assets.TrayPaused || host.tooltip != "Cashbell: 1 failed payment to look at · quiet hours until 07:00" ||
		!strings.Contains(labels, "Pause notifications (quiet hours until 07:00)") || !strings.Contains(labels, "⚠ 1 failed payment") {
		t.Fatalf("icon %v, tooltip %q, menu:\n%s", host.icon.Name(), host.tooltip, labels)
	}
}

// Preferences says how the bell rings here, says so plainly where nothing
// can, and tests it.
func TestTheBellSaysHowItRings(t *testing.T) {
	f := newFixture(t)
	p := f.ui.preferences()
	p.show()
	n := p.notifs
	if n.bellNote.Importance != widget.WarningImportance || !strings.Contains(n.bellNote.Text, "Nothing here can ring the bell") {
		t.Fatalf("no player: %q", n.bellNote.Text)
	}
	f.bell.how = "pw-play"
	n.loadBell()
	if !strings.Contains(n.bellNote.Text, "pw-play rings the bell") || n.bellNote.Importance == widget.WarningImportance {
		t.Fatalf("a player: %q", n.bellNote.Text)
	}
	test.Tap(n.testBell)
	if f.bell.rang != 1 {
		t.Fatalf("the test rang %d times", f.bell.rang)
	}
}

// A rolled key is replaced, keeping the account's events and settings:
// from the row's menu, and from the add dialog when the new key turns out
// to read an account already listed.
func TestARolledKeyIsReplaced(t *testing.T) {
	f := newFixture(t)
	old := f.key(stripesim.AllPermissions...)
	key, _ := accounts.ParseKey(old)
	res, err := f.reg.Add(context.Background(), accounts.AddRequest{Key: key, Name: "Acme Books"})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Account.ID
	if _, err := f.store.Ingest(context.Background(), id, []store.Event{{ID: "evt_1", Type: "charge.succeeded", Created: time.Now().Unix(),
		Object: []byte(`{"id":"ch_1","amount":4900,"currency":"usd"}`)}}, nil, true); err != nil {
		t.Fatal(err)
	}
	f.sim.RevokeKey(old)
	if a, _, _ := f.reg.Recheck(context.Background(), id); a.Status != accounts.StatusKeyRevoked {
		t.Fatalf("status %q after the key was rolled", a.Status)
	}
	p := f.ui.preferences()
	p.show()
	d := p.add

	// From the menu: another account's key is refused, this one's taken.
	p.onReplaceKey(res.Account)
	other := f.sim.NewKey(f.sim.CreateAccount(stripesim.AccountSpec{DisplayName: "Other"}), false, stripesim.Restricted, stripesim.AllPermissions...)
	test.Type(d.key, other)
	waitUntil(t, "the check", func() bool { return strings.Contains(d.status.Text(), "not Acme Books") })
	if !d.addBtn.Disabled() {
		t.Fatal("another account's key may replace this one's")
	}
	d.key.SetText("")
	test.Type(d.key, f.key(stripesim.AllPermissions...))
	waitUntil(t, "the check", func() bool { return !d.addBtn.Disabled() })
	if d.addBtn.Text != "Replace Acme Books's key" {
		t.Fatalf("button %q, status %q", d.addBtn.Text, d.status.Text())
	}
	test.Tap(d.addBtn)
	waitUntil(t, "the replacement", func() bool { a, _ := f.reg.Get(context.Background(), id); return a.Status == accounts.StatusOK })
	a, _ := f.reg.Get(context.Background(), id)
	if n, _ := f.store.Count(context.Background(), id); n != 1 || a.Name != "Acme Books" {
		t.Fatalf("after the replacement: %d events, name %q", n, a.Name)
	}

	// From Add: a new key of a listed account offers to replace its key.
	p.onAdd()
	test.Type(d.key, f.key(stripesim.AllPermissions...))
	waitUntil(t, "the check", func() bool { return !d.addBtn.Disabled() })
	if d.addBtn.Text != "Replace Acme Books's key" || !strings.Contains(d.status.Text(), "already watches") {
		t.Fatalf("button %q, status %q", d.addBtn.Text, d.status.Text())
	}
}

// A page that does not open is said, with its link to copy.
func TestAPageThatDoesNotOpenIsSaid(t *testing.T) {
	f := newFixture(t)
	f.addAccount(t)
	w := f.ui.activityWindow()
	w.show()
	f.ui.openFailed("https://dashboard.stripe.com/test/payments/ch_1")
	// The account picker is as wide as its longest name.
	if want := widget.NewLabel("Acme Books (TEST)").MinSize().Width; w.accountBox.MinSize().Width < want {
		t.Errorf("the account picker is %v wide, its name %v", w.accountBox.MinSize().Width, want)
	}
	top := w.win.Canvas().Overlays().Top()
	if top == nil || !strings.Contains(allText(top), "No browser opened the page") {
		t.Fatal("nothing said the page did not open")
	}
	var link string
	walk(top, func(o fyne.CanvasObject) {
		if e, ok := o.(*widget.Entry); ok {
			link = e.Text
		}
	})
	if link != "https://dashboard.stripe.com/test/payments/ch_1" {
		t.Fatalf("link %q", link)
	}
}

// At 150 % on a 1366×768 screen the add dialog's permission list shows
// several rows, and the dialog fits its window.
func TestAddDialogFitsAtOneAndAHalf(t *testing.T) {
	f := newFixture(t)
	screen := fyne.NewSize(1366/1.5, 768/1.5)
	f.ui.env.screen = func(fyne.Window) (fyne.Size, bool) { return screen, true }
	p := f.ui.preferences()
	p.show()
	p.onAdd()
	d := p.add
	test.Type(d.key, f.key(stripesim.PermEventRead))
	waitUntil(t, "the check", func() bool { return !d.addBtn.Disabled() })
	canvas := p.win.Canvas().Size()
	if h := d.reportScroll.Size().Height; h < reportMinHeight {
		t.Errorf("the permission list is %v high", h)
	}
	if size := d.dlg.MinSize(); size.Height > canvas.Height || size.Width > canvas.Width {
		t.Errorf("the dialog needs %v in a window of %v", size, canvas)
	}
}

// An open dispute shows in the tray with the days left to answer it,
// marked urgent under three days; a closed or prevented one does not.
func TestTrayShowsDisputeDeadlines(t *testing.T) {
	f := newFixture(t)
	acct := f.addAccount(t)
	now := time.Now()
	f.at(now)
	due := func(days float64) int64 { return now.Add(time.Duration(days * 24 * float64(time.Hour))).Unix() }
	dispute := func(id, typ, status string, amount int, dueBy int64) store.Event {
		return store.Event{ID: "evt_" + id + typ, Type: typ, Created: now.Unix() - 3600,
			Object: []byte(fmt.Sprintf(`{"id":"%s","amount":%d,"currency":"usd","charge":"ch_%s","reason":"fraudulent","status":%q,"evidence_details":{"due_by":%d}}`, id, amount, id, status, dueBy))}
	}
	evs := []store.Event{
		dispute("dp_1", "charge.dispute.created", "needs_response", 4900, due(1.5)),
		dispute("dp_2", "charge.dispute.created", "needs_response", 3000, due(9.5)),
		dispute("dp_3", "charge.dispute.created", "needs_response", 1000, due(5)),
		dispute("dp_3", "charge.dispute.closed", "lost", 1000, due(5)),
		dispute("dp_4", "charge.dispute.created", "prevented", 2000, 0),
	}
	if _, err := f.store.Ingest(context.Background(), acct.ID, evs, nil, true); err != nil {
		t.Fatal(err)
	}
	host := f.hostTray()
	labels := strings.Join(menuLabels(host.menu), "\n")
	for _, want := range []string{"‼ Dispute · $49.00 — Acme Books: 2 days left to respond", "⚠ Dispute · $30.00 — Acme Books: 10 days left to respond"} {
		if !strings.Contains(labels, want) {
			t.Errorf("menu lacks %q:\n%s", want, labels)
		}
	}
	if strings.Contains(labels, "$10.00 — Acme Books:") || strings.Contains(labels, "$20.00 — Acme Books:") {
		t.Errorf("a closed or prevented dispute has a deadline:\n%s", labels)
	}
	if host.icon != assets.TrayAttention || !strings.Contains(host.tooltip, "a dispute to answer within 2 days") {
		t.Errorf("icon %v, tooltip %q", host.icon.Name(), host.tooltip)
	}
}

// The morning summary is on at 09:00 by default; its switch and time are
// saved.
func TestMorningSummarySwitch(t *testing.T) {
	f := newFixture(t)
	p := f.ui.preferences()
	p.show()
	n := p.notifs
	if !n.digest.Checked || n.digestAt.value() != "09:00" {
		t.Fatalf("default: on %v at %q", n.digest.Checked, n.digestAt.value())
	}
	n.digestAt.hour.SetSelected("07")
	test.Tap(n.digest)
	set, _ := f.store.Settings(context.Background())
	if !set.NoDigest || set.DigestAt != "07:00" {
		t.Fatalf("saved: off %v at %q", set.NoDigest, set.DigestAt)
	}
}

// Activity says MRR and why it moved over the 30 days, in the chart's
// currency.
func TestActivityShowsMRR(t *testing.T) {
	f := newFixture(t)
	acct := f.addAccount(t)
	now := time.Now()
	f.at(now)
	sub := `{"id":"sub_1","customer":"cus_1","status":"active","cancel_at_period_end":false,"items":{"data":[{"quantity":1,"price":{"unit_amount":4900,"currency":"usd","recurring":{"interval":"month","interval_count":1,"usage_type":"licensed"}}}]}}`
	ctx := context.Background()
	if err := f.store.PutSubscriptions(ctx, acct.ID, []store.Subscription{{ID: "sub_1", AsOf: now.Unix(), JSON: []byte(sub)}}, now); err != nil {
		t.Fatal(err)
	}
	evs := []store.Event{
		{ID: "evt_s1", Type: "customer.subscription.created", Created: now.Unix() - 86400, Object: []byte(sub)},
		{ID: "evt_c1", Type: "charge.succeeded", Created: now.Unix() - 86400, Object: []byte(`{"id":"ch_1","amount":4900,"currency":"usd"}`)},
	}
	if _, err := f.store.Ingest(ctx, acct.ID, evs, nil, false); err != nil {
		t.Fatal(err)
	}
	// Stripe's balance transaction for the sale: $49.00 less $1.72.
	txn := store.Balance{ID: "txn_1", Created: now.Unix() - 86400, Currency: "usd", Fee: 172, Net: 4728, Category: "charge", Source: "ch_1"}
	if err := f.store.PutBalances(ctx, acct.ID, []store.Balance{txn}, now); err != nil {
		t.Fatal(err)
	}
	w := f.ui.activityWindow()
	w.show()
	c := w.chart
	waitUntil(t, "the month summed", func() bool { return !c.summing && !c.summedAt.IsZero() })
	if c.weekLine.Text != "7 days: net $49.00 · 30 days: net $49.00" || !c.mrrLine.Hidden {
		t.Fatalf("sales view: %q, MRR line %q (hidden %v)", c.weekLine.Text, c.mrrLine.Text, c.mrrLine.Hidden)
	}
	if want := "Net after fees, in USD: today $0.00 · 7 days $47.28 · 30 days $47.28"; c.payoutLine.Text != want || c.payoutLine.Hidden {
		t.Fatalf("payout line %q (hidden %v), want %q", c.payoutLine.Text, c.payoutLine.Hidden, want)
	}
	// The MRR view: MRR at the end of each day, nothing before the
	// subscription began yesterday.
	if c.view.Hidden {
		t.Fatal("no MRR view to choose")
	}
	c.view.SetSelected("MRR")
	if c.totals.Text != "MRR $49.00 · 1 subscriber" || c.mrrLine.Text != "30 days: new +$49.00" || !c.payoutLine.Hidden || !c.weekLine.Hidden {
		t.Fatalf("MRR view %q / %q", c.totals.Text, c.mrrLine.Text)
	}
	v := c.bars.values
	if len(v) != chartDays || v[chartDays-1] != 4900 || v[chartDays-2] != 4900 || v[chartDays-3] != 0 {
		t.Fatalf("MRR by day %v", v)
	}
	c.showDay(chartDays - 1)
	if !strings.HasSuffix(c.note.Text, ": MRR $49.00") {
		t.Fatalf("pointed day %q", c.note.Text)
	}
	c.view.SetSelected("Sales")
	if !strings.HasPrefix(c.totals.Text, "Today: ") || c.bars.values[chartDays-2] != 4900 {
		t.Fatalf("back to sales: %q", c.totals.Text)
	}
}

// The tray's MRR line per account: nothing before the first listing, its
// progress while it runs, Stripe's MRR and subscribers once listed (a
// trial does not count), and what is missing when the key cannot read
// subscriptions, never a wrong number.
func TestTrayShowsMRR(t *testing.T) {
	ctx := context.Background()
	paid := `{"id":"sub_1","customer":"cus_1","status":"active","items":{"data":[{"quantity":1,"price":{"unit_amount":4900,"currency":"usd","recurring":{"interval":"month","interval_count":1}}}]}}`
	trial := `{"id":"sub_2","customer":"cus_2","status":"trialing","items":{"data":[{"quantity":1,"price":{"unit_amount":4900,"currency":"usd","recurring":{"interval":"month","interval_count":1}}}]}}`
	mrrLines := func(f *fixture) []string {
		host := &fakeTray{}
		f.tray.tray.host = host
		f.tray.tray.refresh()
		var out []string
		for _, l := range menuLabels(host.menu) {
			if strings.Contains(l, "MRR") || strings.Contains(l, "subscriptions") {
				out = append(out, l)
			}
		}
		return out
	}
	f := newFixture(t)
	acct := f.addAccount(t)
	if got := mrrLines(f); len(got) != 0 {
		t.Fatalf("before the listing: %q", got)
	}
	subs := []store.Subscription{{ID: "sub_1", AsOf: 1, JSON: []byte(paid)}, {ID: "sub_2", AsOf: 1, JSON: []byte(trial)}}
	if err := f.store.PutSubscriptions(ctx, acct.ID, subs, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if got := mrrLines(f); len(got) != 1 || got[0] != "Acme Books: counting subscriptions… 2 so far" {
		t.Fatalf("while listing: %q", got)
	}
	if err := f.store.PutSubscriptions(ctx, acct.ID, subs, time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	if got := mrrLines(f); len(got) != 1 || got[0] != "Acme Books: MRR $49.00 · 1 subscriber" {
		t.Fatalf("listed: %q", got)
	}

	g := newFixture(t)
	key, _ := accounts.ParseKey(g.key(stripesim.PermEventRead, stripesim.PermChargeRead))
	res, err := g.reg.Add(ctx, accounts.AddRequest{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.store.PutSubscriptions(ctx, res.Account.ID, subs, time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	if got := mrrLines(g); len(got) != 1 || !strings.HasSuffix(got[0], ": MRR needs Subscriptions") {
		t.Fatalf("no subscription read: %q", got)
	}
}

// Activity opened on one account by the tray marks that account's bad
// news seen, even when the window was last filtered to another; the other
// account's stays in the tray.
func TestActivityOpenedOnAnAccountMarksThatAccountSeen(t *testing.T) {
	f := newFixture(t)
	a := f.addAccount(t)
	other := f.sim.CreateAccount(stripesim.AccountSpec{DisplayName: "Other Shop"})
	key, _ := accounts.ParseKey(f.sim.NewKey(other, false, stripesim.Restricted, stripesim.AllPermissions...))
	res, err := f.reg.Add(context.Background(), accounts.AddRequest{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	b := res.Account
	now := time.Now()
	f.at(now)
	for _, id := range []string{a.ID, b.ID} {
		e := store.Event{ID: "evt_" + id, Type: "charge.failed", Created: now.Unix() - 60, Object: []byte(`{"id":"ch_` + id + `","amount":900,"currency":"usd"}`)}
		if _, err := f.store.Ingest(context.Background(), id, []store.Event{e}, nil, true); err != nil {
			t.Fatal(err)
		}
	}
	// Last filtered to b, then hidden.
	w := f.ui.activityWindow()
	w.wantAccount = b.ID
	w.showAccounts([]accounts.Account{a, b})
	if w.filteredAccount() != b.ID {
		t.Fatalf("filtered to %q", w.filteredAccount())
	}
	w.win.Hide()
	f.ui.command(local.Command{Kind: local.ShowActivity, Filter: notifier.KindFailedPayment, Account: a.ID})
	waitUntil(t, "marked seen", func() bool {
		set, _ := f.store.Settings(context.Background())
		return set.Seen[a.ID+"/"+notifier.KindFailedPayment] > 0
	})
	u, err := notifier.History{Store: f.store}.Unseen(context.Background())
	if err != nil || u[a.ID][notifier.KindFailedPayment] != 0 || u[b.ID][notifier.KindFailedPayment] != 1 {
		t.Fatalf("unseen %v (%v): want only b's failed payment", u, err)
	}
}

// Opened on an account before its list of accounts has come (the list is
// read off the UI's thread), Activity marks the account asked for seen,
// not every account.
func TestActivityMarksTheAccountAskedForSeenBeforeTheListComes(t *testing.T) {
	f := newFixture(t)
	a := f.addAccount(t)
	w := f.ui.activityWindow()
	w.showAccount(a.ID) // nothing listed yet: it waits for the list
	if w.wantAccount != a.ID {
		t.Fatalf("waiting for %q", w.wantAccount)
	}
	w.markSeen()
	waitUntil(t, "marked seen", func() bool {
		set, _ := f.store.Settings(context.Background())
		return set.Seen[a.ID+"/"] > 0
	})
	if set, _ := f.store.Settings(context.Background()); set.SeenUntil != 0 {
		t.Fatalf("every account marked seen: %+v", set)
	}
}

// Text is what the message says.
func (m *message) Text() string {
	if m.Hidden {
		return ""
	}
	return m.text.Text
}
