package app

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"

	"github.com/cashbell/cashbell/accounts"
	"github.com/cashbell/cashbell/assets"
	"github.com/cashbell/cashbell/notifier"
	"github.com/cashbell/cashbell/notifier/store"
)

// trayHost shows a menu and an icon in the desktop's tray.
type trayHost interface {
	SetMenu(m *fyne.Menu)
	SetIcon(res fyne.Resource)
	SetTooltip(text string)
}

// trayActions are what the menu does beyond reading the store: open a
// window (in the UI process) or quit.
type trayActions interface {
	showPrefs()
	showActivity()
	showUnseen(kind, account string)
	quit()
}

// tray is the system tray icon and its menu.
type tray struct {
	host    trayHost // nil when the desktop has no tray
	env     *env
	reg     accountLister
	hist    history
	prefs   preferences
	ui      trayActions
	icon    fyne.Resource
	tooltip string
	menu    *fyne.Menu // the last menu built, for tests
}

func newTray(host trayHost, e *env, src sources, u trayActions) *tray {
	return &tray{host: host, env: e, reg: src.reg, hist: src.hist, prefs: src.prefs, ui: u}
}

// refresh rebuilds the menu and the icon from the store. The host changes
// only what changed (sniTray.SetMenu), so a menu that is open stays open.
func (t *tray) refresh() {
	t.menu = t.build()
	if t.host == nil {
		return
	}
	t.host.SetMenu(t.menu)
	t.host.SetTooltip(t.tooltip)
	t.host.SetIcon(t.icon)
}

// trayState is what the tray shows, read from the store once per refresh.
type trayState struct {
	list   []accounts.Account
	set    store.Settings
	now    time.Time
	sales  map[string]notifier.Days      // account → today's sales
	unseen notifier.Unseen               // bad news not yet seen in Activity
	due    []notifier.Deadline           // open disputes, soonest first
	mrr    map[string]notifier.Recurring // by account
	recent []store.Event
	nSales int
}

// negative writes an amount that left: "−$10.00", with a minus sign.
func negative(amount string) string { return "\u2212" + amount }

func (t *tray) read() trayState {
	ctx, cancel := t.env.ctx()
	defer cancel()
	st := trayState{now: t.env.now(), sales: map[string]notifier.Days{}, mrr: map[string]notifier.Recurring{}}
	var err error
	if st.list, err = t.reg.List(ctx); err != nil {
		t.env.log.Error("tray: listing accounts", "err", err)
	}
	st.set, _ = t.prefs.Settings(ctx)
	// Today's sales are the chart's: the store asks Happening.MoneyIn, so a
	// card hold and its capture are one sale, as in Activity.
	for _, a := range st.list {
		if r, err := t.hist.Recurring(ctx, a.ID); err == nil {
			st.mrr[a.ID] = r
		}
		days, err := t.hist.SumDays(ctx, []string{a.ID}, st.now, 1)
		if err != nil {
			t.env.log.Error("tray: today's sales", "account", a.ID, "err", err)
			continue
		}
		st.sales[a.ID] = days
		for _, n := range days.Sales {
			st.nSales += n
		}
	}
	st.recent, _, _ = t.hist.Page(ctx, store.Query{Limit: 50})
	if st.unseen, err = t.hist.Unseen(ctx); err != nil {
		t.env.log.Error("tray: unseen bad news", "err", err)
	}
	if st.due, err = t.hist.Deadlines(ctx, st.now); err != nil {
		t.env.log.Error("tray: dispute deadlines", "err", err)
	}
	return st
}

func (t *tray) build() *fyne.Menu {
	st := t.read()
	names := map[string]accounts.Account{}
	for _, a := range st.list {
		names[a.ID] = a
	}
	// The menu keeps one shape while events come: a slot per attention
	// item and per recent event, hidden while empty, and one line per
	// account. Only a new shape builds the host's menu again, and a menu
	// built again under an open submenu (Pause) shows it empty.
	var items []*fyne.MenuItem

	// What needs the user comes first, saying what it is.
	items = append(items, t.attentionItems(st)...)
	items = append(items, t.deadlineItems(st, names)...)
	items = append(items, &fyne.MenuItem{Label: "Today", Disabled: true})
	if len(st.list) == 0 {
		items = append(items, fyne.NewMenuItem("No accounts yet — add one in Preferences", t.ui.showPrefs))
	}
	for _, a := range st.list {
		items = append(items, &fyne.MenuItem{Label: t.todayLine(a, st), Disabled: true})
	}
	for _, a := range st.list { // a hidden slot while the line is ""
		items = append(items, &fyne.MenuItem{Label: t.mrrLine(a, st), Disabled: true})
	}

	items = append(items, fyne.NewMenuItemSeparator())
	var last []notifier.Happening
	for _, e := range st.recent {
		if h := notifier.Decode(e, source(names[e.Account])); h.Listed() && len(last) < recentSlots {
			last = append(last, h)
		}
	}
	opt := notifier.TextOptions{Money: t.env.money, HideAmounts: st.set.HideAmounts}
	for i := range recentSlots {
		switch {
		case i < len(last):
			h := last[i]
			label := notifier.JoinNonEmpty(" — ", h.Headline(opt), h.Account)
			items = append(items, fyne.NewMenuItem(label, func() { t.env.openURL(h.Link) }))
		case i == 0:
			items = append(items, &fyne.MenuItem{Label: "No events yet", Disabled: true})
		default:
			items = append(items, hiddenItem())
		}
	}

	items = append(items, fyne.NewMenuItemSeparator(), t.pauseItem(st.set, st.now), fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem("Activity…", t.ui.showActivity),
		fyne.NewMenuItem("Preferences…", t.ui.showPrefs),
		fyne.NewMenuItemSeparator(),
		&fyne.MenuItem{Label: "Quit", Action: t.ui.quit, IsQuit: true},
	)

	t.tooltip = tooltip(st)
	// Held back, the icon says so above all: the menu still lists what
	// needs looking at.
	switch {
	case heldText(st.set, st.now) != "":
		t.icon = assets.TrayPaused
	case slices.ContainsFunc(st.list, accounts.Account.Stopped) || len(st.unseen) > 0 || len(st.due) > 0 && daysLeft(st.now, st.due[0].Due) < urgentDays:
		t.icon = assets.TrayAttention
	default:
		t.icon = assets.Tray
	}
	return fyne.NewMenu("Cashbell", items...)
}

// deadlineSlots is how many open disputes the menu lists, soonest first.
const deadlineSlots = 3

// urgentDays is when a dispute's deadline turns urgent.
const urgentDays = 3

// deadlineItems are the open disputes with the days left to respond
// (evidence_details.due_by): "⚠ Dispute · $49.00 — Acme: 5 days left to
// respond", "‼" under three days. Each opens the dispute in the Dashboard.
func (t *tray) deadlineItems(st trayState, names map[string]accounts.Account) []*fyne.MenuItem {
	opt := notifier.TextOptions{Money: t.env.money, HideAmounts: st.set.HideAmounts}
	items := make([]*fyne.MenuItem, deadlineSlots)
	for i := range items {
		items[i] = hiddenItem()
		if i >= len(st.due) {
			continue
		}
		d := st.due[i]
		h := notifier.Decode(d.Event, source(names[d.Event.Account]))
		days := daysLeft(st.now, d.Due)
		mark := "⚠"
		if days < urgentDays {
			mark = "‼"
		}
		label := fmt.Sprintf("%s Dispute · %s — %s: %s left to respond", mark, h.AmountText(opt), h.Account, notifier.Count(days, "day", "days"))
		link := h.Link
		items[i] = fyne.NewMenuItem(label, func() { t.env.openURL(link) })
	}
	return items
}

// daysLeft is how many days are left until due, rounded up.
func daysLeft(now, due time.Time) int {
	return int((due.Sub(now) + 24*time.Hour - 1) / (24 * time.Hour))
}

// recentSlots is how many recent events the menu lists.
const recentSlots = 5

// hiddenItem is a slot of the menu with nothing in it for now: the tray
// host hides it.
func hiddenItem() *fyne.MenuItem { return &fyne.MenuItem{Disabled: true} }

// attentionItems are a slot per account, for a stopped one ("Acme: key
// stopped working", opening Preferences), and a slot per kind of bad news,
// for the unseen ones ("1 failed payment", opening Activity); empty slots
// are hidden.
func (t *tray) attentionItems(st trayState) []*fyne.MenuItem {
	var items []*fyne.MenuItem
	for _, a := range st.list {
		it := hiddenItem()
		if a.Stopped() {
			it = fyne.NewMenuItem("⚠ "+a.Name+": Stripe key stopped working", t.ui.showPrefs)
		}
		items = append(items, it)
	}
	for _, k := range notifier.Kinds {
		if !k.Bad {
			continue
		}
		it := hiddenItem()
		if n, accts := st.unseen.Total(k.ID); n > 0 {
			// Activity opens on them: that kind, and that account when
			// they are all in one.
			account := ""
			if len(accts) == 1 {
				account = accts[0]
			}
			kind := k.ID
			it = fyne.NewMenuItem("⚠ "+notifier.Count(n, k.One, k.Many), func() { t.ui.showUnseen(kind, account) })
		}
		items = append(items, it)
	}
	return items
}

// todayLine is an account's day on one line, in its leading currency:
// "Acme: sales $120.00 · refunds −$10.00 · + 2 currencies", as Activity
// says it. Activity has the rest; a line per currency made the menu taller
// than the screen.
func (t *tray) todayLine(a accounts.Account, st trayState) string {
	days := st.sales[a.ID]
	// Currencies are ordered by their sales; one with neither sales nor
	// refunds today has nothing to say.
	codes := slices.DeleteFunc(days.Currencies(), func(c string) bool {
		_, refunds := days.Split(c, 1)
		return days.Sales[c] == 0 && refunds == 0
	})
	if len(codes) == 0 {
		return a.Name + ": no sales yet"
	}
	if st.set.HideAmounts {
		n := 0
		for _, c := range codes {
			n += days.Sales[c]
		}
		return a.Name + ": " + notifier.Count(n, "sale", "sales")
	}
	sales, refunds := days.Split(codes[0], 1)
	line := a.Name + ": " + notifier.DayText(t.env.money, sales, refunds, codes[0])
	if more := len(codes) - 1; more > 0 {
		line += " · + " + notifier.Count(more, "currency", "currencies")
	}
	return line
}

// mrrLine is an account's MRR and subscribers, as Stripe's Billing
// analytics count them: "Acme: MRR $12,340.00 · 214 subscribers", or why
// it is not known, or how far the first listing got.
func (t *tray) mrrLine(a accounts.Account, st trayState) string {
	r := st.mrr[a.ID]
	switch {
	case slices.Contains(a.Missing, accounts.PermSubscriptionRead):
		return a.Name + ": MRR needs Subscriptions"
	case !r.Known && r.Kept > 0:
		return fmt.Sprintf("%s: counting subscriptions… %d so far", a.Name, r.Kept)
	case !r.Known:
		return ""
	case len(r.MRR) == 0:
		return a.Name + ": no MRR yet"
	}
	cur, others := r.Leading()
	mrr := "•••"
	if !st.set.HideAmounts {
		mrr = t.env.money.Format(r.MRR[cur], cur)
	}
	line := fmt.Sprintf("%s: MRR %s · %s", a.Name, mrr, notifier.Count(r.Subscribers, "subscriber", "subscribers"))
	if others > 0 {
		line += " · + " + notifier.Count(others, "currency", "currencies")
	}
	return line
}

// tooltip is the one line a tray host shows on hover: what needs looking
// at, else whether notifications are paused, else today's count of sales.
func tooltip(st trayState) string {
	var parts []string
	if i := slices.IndexFunc(st.list, accounts.Account.Stopped); i >= 0 {
		parts = append(parts, st.list[i].Name+"'s key stopped working")
	}
	for _, k := range notifier.Kinds {
		if n, _ := st.unseen.Total(k.ID); n > 0 && k.Bad {
			parts = append(parts, notifier.Count(n, k.One, k.Many)+" to look at")
			break
		}
	}
	if len(st.due) > 0 {
		if days := daysLeft(st.now, st.due[0].Due); days < urgentDays {
			parts = append(parts, "a dispute to answer within "+notifier.Count(days, "day", "days"))
		}
	}
	if held := heldText(st.set, st.now); held != "" {
		parts = append(parts, held)
	}
	switch {
	case len(parts) > 0:
	case len(st.list) == 0:
		parts = append(parts, "no accounts yet")
	case st.nSales == 0:
		parts = append(parts, "no sales yet today")
	default:
		parts = append(parts, notifier.Count(st.nSales, "sale", "sales")+" today")
	}
	return "Cashbell: " + strings.Join(parts, " · ")
}

// heldText says when notifications come back, while they are held back:
// "notifications paused until 15:00", "quiet hours until 07:00".
func heldText(set store.Settings, now time.Time) string {
	switch {
	case set.Paused(now):
		at := set.PausedUntil.Local()
		if at.YearDay() != now.Local().YearDay() {
			return "notifications paused until " + at.Format("Mon 15:04")
		}
		return "notifications paused until " + at.Format("15:04")
	case set.Quiet(now.Local()):
		return "quiet hours until " + set.QuietTo
	}
	return ""
}

func (t *tray) pauseItem(set store.Settings, now time.Time) *fyne.MenuItem {
	if set.Paused(now) {
		label := heldText(set, now)
		it := fyne.NewMenuItem(strings.ToUpper(label[:1])+label[1:], nil)
		it.ChildMenu = fyne.NewMenu("", fyne.NewMenuItem("Resume notifications", func() { t.pause(time.Time{}) }))
		return it
	}
	tomorrow := time.Date(now.Year(), now.Month(), now.Day()+1, 8, 0, 0, 0, now.Location())
	label := "Pause notifications"
	if held := heldText(set, now); held != "" {
		label += " (" + held + ")" // quiet hours: told when they end
	}
	it := fyne.NewMenuItem(label, nil)
	it.ChildMenu = fyne.NewMenu("",
		fyne.NewMenuItem("For 1 hour", func() { t.pause(t.env.now().Add(time.Hour)) }),
		fyne.NewMenuItem("Until tomorrow (8:00)", func() { t.pause(tomorrow) }),
		fyne.NewMenuItem("Off (notify again)", func() { t.pause(time.Time{}) }),
	)
	return it
}

func (t *tray) pause(until time.Time) {
	ctx, cancel := t.env.ctx()
	defer cancel()
	set, err := t.prefs.Settings(ctx)
	if err == nil {
		set.PausedUntil = until
		err = t.prefs.SaveSettings(ctx, set)
	}
	if err != nil {
		t.env.log.Error("pausing notifications", "err", err)
	}
	t.refresh()
}
