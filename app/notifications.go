package app

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/cashbell/cashbell/notifier"
)

// intervals offered for polling, shortest first.
var intervals = []struct {
	label string
	d     time.Duration
}{
	{"5 seconds", 5 * time.Second},
	{"15 seconds (default)", 15 * time.Second},
	{"30 seconds", 30 * time.Second},
	{"1 minute", time.Minute},
	{"5 minutes", 5 * time.Minute},
}

// notificationsTab holds the notification settings; every change is saved at once.
type notificationsTab struct {
	env    *env
	parent fyne.Window

	types       map[string]*widget.Check
	quietFrom   *widget.Entry
	quietTo     *widget.Entry
	minimum     *widget.Entry
	interval    *widget.Select
	hideAmounts *widget.Check
	autostart   *widget.Check
	problem     *widget.Label
	loading     bool
}

func newNotificationsTab(e *env, parent fyne.Window) *notificationsTab {
	return &notificationsTab{env: e, parent: parent, types: map[string]*widget.Check{}}
}

func (n *notificationsTab) build() fyne.CanvasObject {
	typeBox := container.NewGridWithColumns(2)
	for _, k := range notifier.Kinds {
		c := widget.NewCheck(k.Label, func(bool) { n.save() })
		n.types[k.ID] = c
		typeBox.Add(c)
	}
	n.quietFrom = widget.NewEntry()
	n.quietFrom.SetPlaceHolder("22:00")
	n.quietTo = widget.NewEntry()
	n.quietTo.SetPlaceHolder("07:00")
	n.quietFrom.OnChanged = func(string) { n.save() }
	n.quietTo.OnChanged = func(string) { n.save() }
	n.minimum = widget.NewEntry()
	n.minimum.SetPlaceHolder("0")
	n.minimum.OnChanged = func(string) { n.save() }
	labels := make([]string, len(intervals))
	for i, iv := range intervals {
		labels[i] = iv.label
	}
	n.interval = widget.NewSelect(labels, func(string) { n.save() })
	n.hideAmounts = widget.NewCheck("Hide amounts (for screen sharing)", func(bool) { n.save() })
	n.autostart = widget.NewCheck("Start Cashbell when I log in", n.onAutostart)
	n.problem = widget.NewLabel("")
	n.problem.Importance = widget.DangerImportance
	n.problem.Hide()

	quiet := container.NewHBox(widget.NewLabel("from"), sized(n.quietFrom, 90), widget.NewLabel("to"), sized(n.quietTo, 90),
		widget.NewLabel("(empty: no quiet hours)"))
	minimum := container.NewHBox(sized(n.minimum, 110), widget.NewLabel("in each currency's main unit; smaller amounts stay quiet"))
	form := widget.NewForm(
		widget.NewFormItem("Quiet hours", quiet),
		widget.NewFormItem("Minimum amount", minimum),
		widget.NewFormItem("Check Stripe every", n.interval),
	)
	title := widget.NewLabelWithStyle("Notify me about", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	return container.NewVScroll(container.NewPadded(container.NewVBox(
		title, typeBox, widget.NewSeparator(), form, n.hideAmounts, n.autostart, n.problem)))
}

// sized gives an entry a sensible width inside an HBox.
func sized(o fyne.CanvasObject, width float32) fyne.CanvasObject {
	return container.NewGridWrap(fyne.NewSize(width, o.MinSize().Height), o)
}

// refresh shows the stored settings.
func (n *notificationsTab) refresh() {
	ctx, cancel := n.env.ctx()
	defer cancel()
	set, err := n.env.hist.Settings(ctx)
	if err != nil {
		n.env.log.Error("reading settings", "err", err)
		return
	}
	n.loading = true
	defer func() { n.loading = false }()
	for id, c := range n.types {
		c.SetChecked(set.Enabled(notifier.KindByID(id)))
	}
	n.quietFrom.SetText(set.QuietFrom)
	n.quietTo.SetText(set.QuietTo)
	if set.MinAmount > 0 {
		n.minimum.SetText(strconv.FormatInt(set.MinAmount, 10))
	} else {
		n.minimum.SetText("")
	}
	n.interval.SetSelectedIndex(1)
	for i, iv := range intervals {
		if iv.d == set.PollInterval() {
			n.interval.SetSelectedIndex(i)
		}
	}
	n.hideAmounts.SetChecked(set.HideAmounts)
	n.autostart.SetChecked(n.env.autostart.Enabled())
}

// save validates and stores the settings; a bad field says what to type.
func (n *notificationsTab) save() {
	if n.loading {
		return
	}
	ctx, cancel := n.env.ctx()
	defer cancel()
	set, err := n.env.hist.Settings(ctx)
	if err != nil {
		n.env.log.Error("reading settings", "err", err)
		return
	}
	var problems []string
	set.Disabled = map[string]bool{}
	for typ, c := range n.types {
		if !c.Checked {
			set.Disabled[typ] = true
		}
	}
	from, to := strings.TrimSpace(n.quietFrom.Text), strings.TrimSpace(n.quietTo.Text)
	if notifier.ValidClock(from) != nil || notifier.ValidClock(to) != nil || (from == "") != (to == "") {
		problems = append(problems, "Quiet hours: type both times like 22:00 and 07:00, or leave both empty.")
	} else {
		set.QuietFrom, set.QuietTo = from, to
	}
	if m := strings.TrimSpace(n.minimum.Text); m == "" {
		set.MinAmount = 0
	} else if v, err := strconv.ParseInt(m, 10, 64); err != nil || v < 0 {
		problems = append(problems, "Minimum amount: type a whole number such as 10, or leave it empty.")
	} else {
		set.MinAmount = v
	}
	if i := n.interval.SelectedIndex(); i >= 0 {
		set.Interval = intervals[i].d
	}
	set.HideAmounts = n.hideAmounts.Checked
	if err := n.env.hist.SaveSettings(ctx, set); err != nil {
		problems = append(problems, fmt.Sprintf("Settings could not be saved: %v", err))
	}
	n.problem.SetText(strings.Join(problems, "\n"))
	n.problem.Hidden = len(problems) == 0
	n.problem.Refresh()
	n.env.changed()
}

func (n *notificationsTab) onAutostart(on bool) {
	if n.loading {
		return
	}
	if err := n.env.autostart.Set(on); err != nil {
		n.problem.SetText("Start at login could not be changed: " + err.Error())
		n.problem.Show()
		n.autostart.SetChecked(n.env.autostart.Enabled())
	}
}
