package app

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"fyne.io/fyne/v2"

	"github.com/cashbell/cashbell/accounts"
	"github.com/cashbell/cashbell/assets"
	"github.com/cashbell/cashbell/notifier"
)

// trayHost shows a menu and an icon in the desktop's tray.
type trayHost interface {
	SetMenu(m *fyne.Menu)
	SetIcon(res fyne.Resource)
	SetTooltip(text string)
}

// tray is the system tray icon and its menu.
type tray struct {
	host      trayHost // nil when the desktop has no tray
	env       *env
	ui        *ui
	attention bool
	tooltip   string
	menu      *fyne.Menu // the last menu built, for tests
}

func newTray(host trayHost, e *env, u *ui) *tray {
	return &tray{host: host, env: e, ui: u}
}

// refresh rebuilds the menu and the icon from the store.
func (t *tray) refresh() {
	t.menu = t.build()
	if t.host == nil {
		return
	}
	t.host.SetMenu(t.menu)
	t.host.SetTooltip(t.tooltip)
	if t.attention {
		t.host.SetIcon(assets.TrayAttention)
	} else {
		t.host.SetIcon(assets.Tray)
	}
}

func (t *tray) build() *fyne.Menu {
	ctx, cancel := t.env.ctx()
	defer cancel()
	list, err := t.env.reg.List(ctx)
	if err != nil {
		t.env.log.Error("tray: listing accounts", "err", err)
	}
	set, _ := t.env.hist.Settings(ctx)
	now := t.env.now()
	names := map[string]accounts.Account{}
	for _, a := range list {
		names[a.ID] = a
	}

	var items []*fyne.MenuItem
	// Today's sales, per account and currency.
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	today, _ := t.env.hist.Since(ctx, midnight)
	totals := map[string]notifier.Totals{}
	counts := map[string]int{}
	t.attention = false
	sales := notifier.KindByID("sale")
	for _, e := range today {
		if h := notifier.Decode(e, notifier.Source{}); h.Kind == sales && h.HasAmount() {
			if totals[e.Account] == nil {
				totals[e.Account] = notifier.Totals{}
			}
			totals[e.Account].Add(h.Amount, h.Currency)
			counts[e.Account]++
		}
	}
	recent, _, _ := t.env.hist.Page(ctx, notifier.Query{Limit: 200})
	for _, e := range recent {
		if k := notifier.KindOf(e.Type); k != nil && k.Bad && e.Created > set.SeenUntil && e.Mark != notifier.MarkSilent {
			t.attention = true
		}
	}
	for _, a := range list {
		if a.Stopped() {
			t.attention = true
		}
	}

	t.tooltip = tooltip(list, counts, set, now, t.attention)

	header := fyne.NewMenuItem("Today", nil)
	header.Disabled = true
	items = append(items, header)
	if len(list) == 0 {
		it := fyne.NewMenuItem("No accounts yet — add one in Preferences", nil)
		it.Disabled = true
		items = append(items, it)
	}
	for _, a := range list {
		line := a.Name + ": no sales yet"
		if n := counts[a.ID]; n > 0 {
			amount := totals[a.ID].Format(t.env.money)
			if set.HideAmounts {
				amount = "•••"
			}
			line = fmt.Sprintf("%s: %s (%d %s)", a.Name, amount, n, plural(n, "sale", "sales"))
		}
		if a.Stopped() {
			line = a.Name + ": key stopped working — check it in Preferences"
		}
		it := fyne.NewMenuItem(line, nil)
		it.Disabled = !a.Stopped()
		if !it.Disabled {
			it.Action = t.ui.showPrefs
		}
		items = append(items, it)
	}

	items = append(items, fyne.NewMenuItemSeparator())
	last := recent
	if len(last) > 5 {
		last = last[:5]
	}
	if len(last) == 0 {
		it := fyne.NewMenuItem("No events yet", nil)
		it.Disabled = true
		items = append(items, it)
	}
	opt := notifier.TextOptions{Money: t.env.money, HideAmounts: set.HideAmounts}
	for _, e := range last {
		h := notifier.Decode(e, source(names[e.Account]))
		label := strings.Join(nonEmpty(h.What(), h.AmountText(opt), h.Account), " · ")
		items = append(items, fyne.NewMenuItem(label, func() { t.env.openURL(h.Link) }))
	}

	items = append(items, fyne.NewMenuItemSeparator(), t.pauseItem(set, now), fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem("Activity…", t.ui.showActivity),
		fyne.NewMenuItem("Preferences…", t.ui.showPrefs),
		fyne.NewMenuItemSeparator(),
	)
	quit := fyne.NewMenuItem("Quit", t.ui.quit)
	quit.IsQuit = true
	items = append(items, quit)
	return fyne.NewMenu("Cashbell", items...)
}

// tooltip is the one line a tray host shows on hover: what needs looking
// at, else whether notifications are paused, else today's count of sales.
func tooltip(list []accounts.Account, counts map[string]int, set notifier.Settings, now time.Time, attention bool) string {
	for _, a := range list {
		if a.Stopped() {
			return "Cashbell: " + a.Name + "'s key stopped working"
		}
	}
	switch {
	case attention:
		return "Cashbell: a failed payment or a dispute to look at"
	case set.Paused(now):
		return "Cashbell: notifications paused until " + set.PausedUntil.Local().Format("15:04")
	case len(list) == 0:
		return "Cashbell: no accounts yet"
	}
	sales := 0
	for _, n := range counts {
		sales += n
	}
	if sales == 0 {
		return "Cashbell: no sales yet today"
	}
	return fmt.Sprintf("Cashbell: %d %s today", sales, plural(sales, "sale", "sales"))
}

func (t *tray) pauseItem(set notifier.Settings, now time.Time) *fyne.MenuItem {
	if set.Paused(now) {
		label := "Notifications paused until " + set.PausedUntil.Local().Format("15:04")
		if set.PausedUntil.Local().YearDay() != now.Local().YearDay() {
			label = "Notifications paused until " + set.PausedUntil.Local().Format("Mon 15:04")
		}
		it := fyne.NewMenuItem(label, nil)
		it.ChildMenu = fyne.NewMenu("", fyne.NewMenuItem("Resume notifications", func() { t.pause(time.Time{}) }))
		return it
	}
	tomorrow := time.Date(now.Year(), now.Month(), now.Day()+1, 8, 0, 0, 0, now.Location())
	it := fyne.NewMenuItem("Pause notifications", nil)
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
	set, err := t.env.hist.Settings(ctx)
	if err == nil {
		set.PausedUntil = until
		err = t.env.hist.SaveSettings(ctx, set)
	}
	if err != nil {
		t.env.log.Error("pausing notifications", "err", err)
	}
	t.refresh()
}

// nonEmpty keeps the strings that say something.
func nonEmpty(parts ...string) []string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// openURL opens a Stripe Dashboard page in the browser.
func openURL(a fyne.App, raw string) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" {
		return
	}
	if err := a.OpenURL(u); err != nil {
		fyne.LogError("opening "+raw, err)
	}
}
