package app

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/cashbell/cashbell/accounts"
	"github.com/cashbell/cashbell/assets"
	"github.com/cashbell/cashbell/notifier"
	"github.com/cashbell/cashbell/notifier/store"
)

// activityPage is how many events are read from the store at a time.
const activityPage = 200

// activitySize is the size Activity asks for; a smaller screen gets less.
var activitySize = fyne.NewSize(820, 560)

// activityWindow lists stored events, newest first. The list is virtual and
// reads the store a page at a time, so it stays fast over 100,000 events.
type activityWindow struct {
	env   *env
	hist  history
	prefs preferences
	reg   accountLister
	win   fyne.Window
	// wantAccount is the account a command opens the window on, until the
	// accounts are listed.
	wantAccount string
	list        *eventList

	accountFilter *widget.Select
	accountBox    *fyne.Container // as wide as the longest account's name
	hide          func()          // closes the window as its close button does
	typeFilter    *widget.Select
	count         *widget.Label
	openBtn       *widget.Button
	chart         *monthChart

	accounts map[string]accounts.Account
	order    []accounts.Account
	// events are the rows read so far, with what was learnt about each
	// (fee and net once Stripe settled them).
	events   []notifier.Happening
	selected int
	cursor   *store.Cursor
	more     bool
	loading  bool
	// hideAmounts is read once per reload, not once per row.
	hideAmounts bool
	// oneAccount: every row is of one account, so rows leave its name out.
	oneAccount bool
	shown      bool
	sized      bool
}

func newActivityWindow(a fyne.App, e *env, hist history, prefs preferences, reg accountLister) *activityWindow {
	w := &activityWindow{env: e, hist: hist, prefs: prefs, reg: reg, win: a.NewWindow("Cashbell Activity"), accounts: map[string]accounts.Account{}, selected: -1}
	w.build()
	w.win.Resize(activitySize)
	return w
}

func (w *activityWindow) build() {
	w.accountFilter = widget.NewSelect([]string{"All accounts"}, func(string) { w.reload() })
	w.accountFilter.SetSelectedIndex(0)
	types := []string{"All events"}
	for _, k := range notifier.Kinds {
		types = append(types, k.Label)
	}
	w.typeFilter = widget.NewSelect(types, func(string) { w.reload() })
	w.typeFilter.SetSelectedIndex(0)
	w.count = widget.NewLabel("")
	w.openBtn = widget.NewButtonWithIcon("Open in Stripe", theme.ComputerIcon(), func() { w.open(w.selected) })
	w.openBtn.Disable()

	// The window opens on the month at a glance, above the events. The
	// chart is made before the list, so that a reload, which waits for
	// the list, finds it.
	w.chart = newMonthChart(w.env, w.hist)
	w.chart.accounts = func() []string {
		ids := make([]string, len(w.order))
		for i, a := range w.order {
			ids[i] = a.ID
		}
		return ids
	}
	w.list = newEventList(w)
	// The filters say what they filter ("All accounts", "All events"), so
	// they need no labels; the count goes under the list.
	w.accountBox = container.NewGridWrap(w.accountFilter.MinSize(), w.accountFilter)
	filters := container.NewBorder(nil, nil, nil, w.openBtn, container.NewHBox(w.accountBox, w.typeFilter))
	top := container.NewVBox(filters, container.NewPadded(w.chart.root), widget.NewSeparator())
	w.win.SetContent(container.NewBorder(top, w.count, nil, nil, w.list))
}

func (w *activityWindow) show() {
	w.shown = true
	w.refresh()
	w.win.Show()
	if !w.sized {
		w.sized = true
		w.env.fit(w.win, activitySize)
	}
	w.win.RequestFocus()
	w.win.Canvas().Focus(w.list) // arrows move, Enter opens
	w.markSeen()
}

// markSeen clears the tray's attention for the bad news shown here: of
// the kind the list is filtered to, else of every kind; in the account it
// is filtered to (or is being opened on), else in every account.
func (w *activityWindow) markSeen() {
	now := w.env.now().Unix()
	var kinds []string
	if i := w.typeFilter.SelectedIndex(); i > 0 {
		kinds = []string{notifier.Kinds[i-1].ID}
	}
	account := cmp.Or(w.wantAccount, w.filteredAccount()) // not listed yet: the account asked for
	w.env.fetch(func(ctx context.Context) func() {
		set, err := w.prefs.Settings(ctx)
		if err != nil {
			return func() {}
		}
		set.MarkSeen(now, account, kinds...)
		if err := w.prefs.SaveSettings(ctx, set); err != nil {
			return func() {}
		}
		return w.env.changed
	})
}

// refresh reloads the account names and the newest events, if the window
// is open. Like every read of Activity's, it is made away from the UI's
// thread (in the UI process each is a call to the tray) and shown
// when it comes.
func (w *activityWindow) refresh() {
	w.env.fetch(func(ctx context.Context) func() {
		list, err := w.reg.List(ctx)
		return func() {
			if err != nil {
				w.env.log.Error("listing accounts", "err", err)
				return
			}
			w.showAccounts(list)
		}
	})
}

// showAccounts puts the accounts in the filter, then adds the newest events
// or, when the filter changed, reads the first page again.
func (w *activityWindow) showAccounts(list []accounts.Account) {
	w.order = list
	w.accounts = map[string]accounts.Account{}
	options := []string{"All accounts"}
	for _, a := range list {
		w.accounts[a.ID] = a
		options = append(options, accountLabel(a))
	}
	selected := w.accountFilter.Selected
	w.accountFilter.Options = options
	if a, ok := w.accounts[w.wantAccount]; ok { // asked for before the list came
		selected = accountLabel(a)
	}
	w.wantAccount = ""
	if !slices.Contains(options, selected) {
		selected = options[0]
	}
	filterChanged := selected != w.accountFilter.Selected
	w.accountFilter.Selected = selected
	w.accountFilter.Refresh()
	// The picker is as wide as its longest name, up to a limit: a Select is
	// as wide as its placeholder, and cut "Demo Shop" to "Demo Sho…".
	width := w.accountFilter.MinSize().Width
	for _, o := range options {
		width = max(width, widget.NewLabel(o).MinSize().Width+2*theme.Padding()+theme.IconInlineSize())
	}
	w.accountBox.Layout = layout.NewGridWrapLayout(fyne.NewSize(min(width, 240), w.accountFilter.MinSize().Height))
	w.accountBox.Refresh()
	if filterChanged || len(w.events) == 0 {
		w.reload()
		return
	}
	w.addNewest()
}

// addNewest puts the events that arrived since the list was read at its
// top, keeping what the user scrolled to and selected; when more arrived
// than a page, or amounts were hidden or shown meanwhile, it reads the
// first page again.
func (w *activityWindow) addNewest() {
	q, top, names := w.query(), w.events[0].Event.ID, maps.Clone(w.accounts)
	shown := make([]store.Event, min(len(w.events), activityPage))
	for i := range shown {
		shown[i] = w.events[i].Event
	}
	w.env.fetch(func(ctx context.Context) func() {
		events, _, err := w.hist.Page(ctx, q)
		fresh := slices.IndexFunc(events, func(e store.Event) bool { return e.ID == top })
		if err != nil || fresh < 0 {
			return w.reload
		}
		rows, err := w.happenings(ctx, names, events[:fresh])
		set, serr := w.prefs.Settings(ctx)
		if err != nil || serr != nil {
			return w.reload
		}
		// What Stripe settled since (fee and net) reaches the rows it
		// belongs to; it comes within moments of a sale, so the newest
		// page will do.
		again, aerr := w.decode(ctx, names, shown)
		return func() {
			if set.HideAmounts != w.hideAmounts {
				w.reload() // every row reads differently
				return
			}
			if aerr == nil && len(w.events) >= len(again) && w.events[0].Event.ID == top {
				copy(w.events, again)
			}
			w.events = append(rows, w.events...)
			if w.selected >= 0 {
				w.selected += len(rows)
				w.list.Select(w.selected)
			}
			w.updateCount()
			w.list.Refresh()
			w.chart.reload(w.filteredAccount(), w.hideAmounts, false)
		}
	})
}

// decode reads events for their rows, with their accounts' names and
// modes and what the store knows of their objects.
func (w *activityWindow) decode(ctx context.Context, names map[string]accounts.Account, events []store.Event) ([]notifier.Happening, error) {
	return notifier.Happenings(ctx, w.hist, events, func(id string) notifier.Source { return source(names[id]) })
}

// happenings reads a page of events for their rows, with each account's
// name and mode and what was kept about each event's object.
//
// Only what is news is listed (Happening.Listed): not the events Stripe
// sends alongside (the settlement's charge.updated, charge.refunded where
// refund.created told the refund, a subscription turning active with its
// first payment).
func (w *activityWindow) happenings(ctx context.Context, names map[string]accounts.Account, events []store.Event) ([]notifier.Happening, error) {
	all, err := w.decode(ctx, names, events)
	return slices.DeleteFunc(all, func(h notifier.Happening) bool { return !h.Listed() }), err
}

// source is what a happening needs to know about its account.
func source(a accounts.Account) notifier.Source {
	return notifier.Source{Name: a.Name, Live: a.Live(), Connected: a.ConnectedID()}
}

func accountLabel(a accounts.Account) string {
	return a.Name + " (" + strings.ToUpper(string(a.Mode)) + ")"
}

func (w *activityWindow) query() store.Query {
	q := store.Query{Limit: activityPage}
	if i := w.accountFilter.SelectedIndex(); i > 0 && i-1 < len(w.order) {
		q.Accounts = []string{w.order[i-1].ID}
	}
	if i := w.typeFilter.SelectedIndex(); i > 0 {
		q.Types = notifier.Kinds[i-1].Types
	}
	return q
}

// reload reads the first page for the current filters.
// filteredAccount is the account chosen in the filter; "" for all.
func (w *activityWindow) filteredAccount() string {
	if i := w.accountFilter.SelectedIndex(); i > 0 && i-1 < len(w.order) {
		return w.order[i-1].ID
	}
	return ""
}

func (w *activityWindow) reload() {
	if w.list == nil || w.count == nil {
		return
	}
	q, names := w.query(), maps.Clone(w.accounts)
	w.env.fetch(func(ctx context.Context) func() {
		rows, cur, full, err := w.page(ctx, q, names)
		set, _ := w.prefs.Settings(ctx)
		return func() {
			if err != nil {
				w.env.log.Error("reading events", "err", err)
				return
			}
			w.hideAmounts = set.HideAmounts
			w.oneAccount = len(w.order) == 1 || w.accountFilter.SelectedIndex() > 0
			w.chart.reload(w.filteredAccount(), w.hideAmounts, false)
			w.events, w.cursor, w.more = rows, cur, full
			w.selected = -1
			w.list.UnselectAll()
			w.openBtn.Disable()
			w.updateCount()
			w.list.Refresh()
		}
	})
}

// page reads a page of q's events for their rows; full says there may be
// more after it.
func (w *activityWindow) page(ctx context.Context, q store.Query, names map[string]accounts.Account) (
	rows []notifier.Happening, cur *store.Cursor, full bool, err error) {
	events, cur, err := w.hist.Page(ctx, q)
	if err == nil {
		rows, err = w.happenings(ctx, names, events)
	}
	return rows, cur, len(events) == activityPage, err
}

// loadMore appends the next page after the current frame.
func (w *activityWindow) loadMore() {
	w.loading = true
	q, names := w.query(), maps.Clone(w.accounts)
	q.Before = w.cursor
	w.env.fetch(func(ctx context.Context) func() {
		rows, cur, full, err := w.page(ctx, q, names)
		return func() {
			w.loading = false
			if err != nil {
				w.env.log.Error("reading events", "err", err)
				return
			}
			w.events = append(w.events, rows...)
			w.cursor, w.more = cur, full
			w.updateCount()
			w.list.Refresh()
		}
	})
}

func (w *activityWindow) updateCount() {
	switch {
	case len(w.events) == 0:
		w.count.SetText("No events yet")
	case w.more:
		w.count.SetText("showing the newest " + strconv.Itoa(len(w.events)) + "; scroll for more")
	default:
		w.count.SetText(notifier.Count(len(w.events), "event", "events"))
	}
}

// showKind filters the list to one kind of event, by id; "" shows them all.
func (w *activityWindow) showKind(id string) {
	// A kind not listed is -1: every kind, the first choice.
	w.typeFilter.SetSelectedIndex(1 + slices.IndexFunc(notifier.Kinds, func(k *notifier.Kind) bool { return k.ID == id }))
}

// showAccount filters the list to one account's events, once the
// accounts are listed if they are not yet.
func (w *activityWindow) showAccount(id string) {
	if i := slices.IndexFunc(w.order, func(a accounts.Account) bool { return a.ID == id }); i >= 0 {
		w.accountFilter.SetSelectedIndex(i + 1)
		return
	}
	w.wantAccount = id
}

func (w *activityWindow) open(id int) {
	if id < 0 || id >= len(w.events) {
		return
	}
	w.env.openURL(w.events[id].Link)
}

func (w *activityWindow) selectRow(id int) {
	w.selected = id
	if id >= 0 && id < len(w.events) {
		w.openBtn.Enable()
	}
}

// eventList is the list of events, for the keyboard too: the arrows move
// the selection and Enter (or Space twice) opens the selected event.
type eventList struct {
	widget.List
	w *activityWindow
}

func newEventList(w *activityWindow) *eventList {
	l := &eventList{w: w}
	l.Length = func() int { return len(w.events) }
	l.CreateItem = func() fyne.CanvasObject { return newEventRow(w) }
	l.UpdateItem = func(id widget.ListItemID, o fyne.CanvasObject) {
		if id >= len(w.events) {
			return
		}
		o.(*eventRow).set(id, w.events[id])
		if id >= len(w.events)-50 && w.more && !w.loading {
			w.loadMore()
		}
	}
	l.OnSelected = func(id widget.ListItemID) { w.selectRow(id) }
	l.OnUnselected = func(widget.ListItemID) { w.selected = -1; w.openBtn.Disable() }
	l.ExtendBaseWidget(l)
	return l
}

func (l *eventList) TypedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyEscape:
		// Esc closes Activity, as it closes a dialog; Cashbell stays in
		// the tray.
		l.w.hide()
	case fyne.KeyReturn, fyne.KeyEnter:
		l.w.open(l.w.selected)
	case fyne.KeyDown, fyne.KeyUp:
		next := l.w.selected + 1
		if ev.Name == fyne.KeyUp {
			next = l.w.selected - 1
		}
		if l.w.selected < 0 {
			next = 0
		}
		if next >= 0 && next < len(l.w.events) {
			l.Select(next)
			l.ScrollTo(next)
		}
	default:
		l.List.TypedKey(ev)
	}
}

// eventRow is one event: its icon, what happened and the details (after
// the account's name when several are shown), the amount in a column of its
// own that is never cut short, with the net under it once settled, and the
// time.
type eventRow struct {
	widget.BaseWidget
	w       *activityWindow
	id      int
	logo    *canvas.Image
	title   *widget.Label
	body    *widget.Label
	amount  *widget.Label
	settled *widget.RichText
	when    *widget.Label
}

func newEventRow(w *activityWindow) *eventRow {
	r := &eventRow{w: w, logo: canvas.NewImageFromResource(assets.AccountLogo),
		title:   widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		body:    widget.NewLabel(""),
		amount:  widget.NewLabelWithStyle("", fyne.TextAlignTrailing, fyne.TextStyle{Bold: true}),
		settled: secondaryText(""),
		when:    widget.NewLabelWithStyle("", fyne.TextAlignTrailing, fyne.TextStyle{})}
	r.settled.Segments[0].(*widget.TextSegment).Style.Alignment = fyne.TextAlignTrailing
	r.settled.Segments[0].(*widget.TextSegment).Style.Inline = false
	r.logo.FillMode = canvas.ImageFillContain
	r.logo.SetMinSize(fyne.NewSize(32, 32))
	r.title.Truncation = fyne.TextTruncateEllipsis
	r.body.Truncation = fyne.TextTruncateEllipsis
	r.ExtendBaseWidget(r)
	return r
}

// whenWidth fits the longest time a row shows ("30 Dec 2026"), so that the
// amounts line up.
var whenWidth = func() float32 { return widget.NewLabel("30 Sep 2026").MinSize().Width }

func (r *eventRow) CreateRenderer() fyne.WidgetRenderer {
	// Two lines, each cut short only by what is beside it: what happened
	// beside the amount and the time; the details beside the net.
	when := container.NewGridWrap(fyne.NewSize(whenWidth(), r.when.MinSize().Height), r.when)
	gap := container.NewGridWrap(fyne.NewSize(whenWidth(), 0))
	line1 := container.NewBorder(nil, nil, nil, container.NewHBox(r.amount, when), r.title)
	line2 := container.NewBorder(nil, nil, nil, container.NewHBox(r.settled, gap), r.body)
	return widget.NewSimpleRenderer(container.NewBorder(nil, nil, container.NewCenter(r.logo), nil,
		container.NewVBox(line1, line2)))
}

func (r *eventRow) set(id int, h notifier.Happening) {
	r.id = id
	a := r.w.accounts[h.Event.Account]
	switch {
	case h.Kind != nil && h.Kind.Bad:
		r.logo.File, r.logo.Resource = "", assets.Alert
	case h.Kind != nil && h.Kind.Out:
		r.logo.File, r.logo.Resource = "", theme.ContentUndoIcon()
	case a.Logo != "":
		r.logo.Resource, r.logo.File = nil, a.Logo
	default:
		r.logo.File, r.logo.Resource = "", assets.AccountLogo
	}
	r.logo.Refresh()
	opt := notifier.TextOptions{Money: r.w.env.money, HideAmounts: r.w.hideAmounts, NetApart: true}
	r.title.Importance = widget.MediumImportance
	if h.Kind != nil && h.Kind.Bad {
		r.title.Importance = widget.DangerImportance
	}
	r.title.SetText(h.What())
	details := h.Body(opt)
	if !r.w.oneAccount {
		details = notifier.JoinNonEmpty(" · ", h.Account, details)
	}
	r.body.SetText(details)
	amount := ""
	if h.Kind != nil && h.Kind.Money {
		amount = h.AmountText(opt)
		if h.Kind.Out && amount != "" && !opt.HideAmounts {
			amount = negative(amount)
		}
	}
	r.amount.SetText(amount)
	seg := r.settled.Segments[0].(*widget.TextSegment)
	seg.Text = settled(h, r.w.env.money, r.w.hideAmounts)
	r.settled.Refresh()
	r.when.SetText(when(h.Event.CreatedTime(), r.w.env.now()))
	r.Refresh() // the amount column's width follows its text
}

// Tapped selects the row, as a list row does.
func (r *eventRow) Tapped(*fyne.PointEvent) {
	r.w.list.Select(r.id)
	if c := fyne.CurrentApp().Driver().CanvasForObject(r); c != nil {
		c.Focus(r.w.list)
	}
}

// DoubleTapped opens the event's Dashboard page.
func (r *eventRow) DoubleTapped(*fyne.PointEvent) { r.w.open(r.id) }

// settled is "net $96.80 · fee $3.20" once Stripe settled the payment.
func settled(h notifier.Happening, m *notifier.Money, hide bool) string {
	if h.NetCurrency == "" || hide {
		return ""
	}
	return "net " + m.Format(h.Net, h.NetCurrency) + " · fee " + m.Format(h.Fee, h.NetCurrency)
}

// when is "14:05" today, "Mon 14:05" this week, else "2 Jan 2026".
func when(t, now time.Time) string {
	t, now = t.Local(), now.Local()
	switch {
	case t.YearDay() == now.YearDay() && t.Year() == now.Year():
		return t.Format("15:04")
	case now.Sub(t) < 6*24*time.Hour:
		return t.Format("Mon 15:04")
	}
	return t.Format("2 Jan 2006")
}
