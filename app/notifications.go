package app

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/cashbell/cashbell/notifier"
	"github.com/cashbell/cashbell/notifier/store"
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

// Quiet hours a person turns on start as a night: 22:00 to 07:00.
const (
	defaultQuietFrom = "22:00"
	defaultQuietTo   = "07:00"
)

// notificationsTab holds the notification settings. Switches and pickers
// save at once; the minimum amount is saved when it is left or on Enter,
// so that what is being typed ("5." on the way to "5.50") is never judged
// or wiped.
type notificationsTab struct {
	env    *env
	prefs  preferences
	start  startAtLogin
	bell   bell
	saving sync.Mutex // one change of the settings at a time

	types       map[string]*widget.Check
	sounds      map[string]*widget.Check
	quiet       *widget.Check
	quietFrom   *clockPicker
	quietTo     *clockPicker
	digest      *widget.Check
	digestAt    *clockPicker
	minimum     *leaveEntry
	minimumErr  *widget.Label
	interval    *widget.Select
	hideAmounts *widget.Check
	bellNote    *widget.Label
	testBell    *widget.Button
	autostart   *widget.Check
	problem     *widget.Label
	loading     bool
}

func newNotificationsTab(e *env, prefs preferences, autostart startAtLogin, b bell) *notificationsTab {
	return &notificationsTab{env: e, prefs: prefs, start: autostart, bell: b, types: map[string]*widget.Check{}, sounds: map[string]*widget.Check{}}
}

func (n *notificationsTab) build() fyne.CanvasObject {
	typeBox := n.kindChecks(n.types, func(s *store.Settings, id string, on bool) {
		if s.Disabled == nil {
			s.Disabled = map[string]bool{}
		}
		if on {
			delete(s.Disabled, id)
		} else {
			s.Disabled[id] = true
		}
	})
	soundBox := n.kindChecks(n.sounds, func(s *store.Settings, id string, on bool) {
		if s.Sounds == nil {
			s.Sounds = map[string]bool{}
		}
		s.Sounds[id] = on
	})
	n.bellNote = widget.NewLabel("")
	n.bellNote.Wrapping = fyne.TextWrapWord
	n.testBell = widget.NewButtonWithIcon("Test the bell", theme.MediaPlayIcon(), n.ring)
	n.loadBell()

	// The switch reads with its pickers: "[x] from 22:00 to 07:00".
	n.quiet = widget.NewCheck("from", func(on bool) { n.quietFrom.enable(on); n.quietTo.enable(on); n.saveQuiet() })
	n.quietFrom = newClockPicker(func(string) { n.saveQuiet() })
	n.quietTo = newClockPicker(func(string) { n.saveQuiet() })
	quiet := container.NewHBox(n.quiet, n.quietFrom, widget.NewLabel("to"), n.quietTo)
	// "[x] at 09:00": yesterday in one notification, once a day.
	n.digest = widget.NewCheck("at", func(on bool) { n.digestAt.enable(on); n.saveDigest() })
	n.digestAt = newClockPicker(func(string) { n.saveDigest() })
	digest := container.NewHBox(n.digest, n.digestAt)

	n.minimum = newLeaveEntry(n.saveMinimum)
	n.minimum.SetPlaceHolder("none")
	n.minimum.OnChanged = func(string) { n.clearMinimumError() }
	n.minimumErr = widget.NewLabel("")
	n.minimumErr.Importance = widget.DangerImportance
	n.minimumErr.Wrapping = fyne.TextWrapWord
	n.minimumErr.Hide()
	minimumHint := widget.NewLabel("Smaller payments stay quiet, in every currency: 5.50 means $5.50, €5.50 and ¥6.")
	minimumHint.Wrapping = fyne.TextWrapWord

	labels := make([]string, len(intervals))
	for i, iv := range intervals {
		labels[i] = iv.label
	}
	n.interval = widget.NewSelect(labels, func(string) {
		if i := n.interval.SelectedIndex(); i >= 0 {
			n.update(func(s *store.Settings) { s.Interval = intervals[i].d })
		}
	})
	n.hideAmounts = widget.NewCheck("Hide amounts and customers (for screen sharing)", func(on bool) {
		n.update(func(s *store.Settings) { s.HideAmounts = on })
	})
	n.autostart = widget.NewCheck("Start Cashbell when I log in", n.onAutostart)
	n.problem = widget.NewLabel("")
	n.problem.Importance = widget.DangerImportance
	n.problem.Wrapping = fyne.TextWrapWord
	n.problem.Hide()

	form := widget.NewForm(
		widget.NewFormItem("Quiet hours", quiet),
		widget.NewFormItem("Morning summary", digest),
		widget.NewFormItem("Minimum amount", container.NewVBox(container.NewBorder(nil, nil, sized(n.minimum, 120), nil, minimumHint), n.minimumErr)),
		widget.NewFormItem("Check Stripe every", container.NewHBox(sized(n.interval, 210))),
	)
	title := widget.NewLabelWithStyle("Notify me about", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	ring := widget.NewLabelWithStyle("Ring a bell for", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	return container.NewVScroll(container.NewPadded(container.NewVBox(
		title, typeBox, widget.NewSeparator(), form, n.hideAmounts, n.autostart, n.problem,
		widget.NewSeparator(), ring, soundBox, container.NewBorder(nil, nil, nil, n.testBell, n.bellNote))))
}

// bellNotes say how the bell rings, by what rings it (bell.Bell).
func bellNote(how string) (string, widget.Importance) {
	switch how {
	case "":
		return "Nothing here can ring the bell: the notification service plays no sounds, and no sound player is installed. " +
			"Install libcanberra (canberra-gtk-play) or PipeWire (pw-play) to hear it.", widget.WarningImportance
	case "the notification service":
		return "The notification service plays the bell; never in quiet hours or while paused.", widget.MediumImportance
	case "Windows' notification sound":
		return "Windows plays its notification sound; never in quiet hours or while paused.", widget.MediumImportance
	}
	return "The notification service plays no sounds, so " + how + " rings the bell; never in quiet hours or while paused.", widget.MediumImportance
}

// loadBell says, under the switches, how the bell rings here.
func (n *notificationsTab) loadBell() {
	n.env.fetch(func(ctx context.Context) func() {
		how := n.bell.Bell(ctx)
		text, importance := bellNote(how)
		return func() {
			n.bellNote.Importance = importance
			n.bellNote.SetText(text)
			if how == "" {
				n.testBell.Disable()
			} else {
				n.testBell.Enable()
			}
		}
	})
}

// ring rings the bell once, as a sale would.
func (n *notificationsTab) ring() {
	n.env.fetch(func(ctx context.Context) func() {
		err := n.bell.Ring(ctx)
		return func() {
			if err != nil {
				n.showProblem("The bell could not ring: " + say(err))
				return
			}
			n.problem.Hide()
		}
	})
}

// kindChecks is a switch per kind, two columns; each saves through set.
func (n *notificationsTab) kindChecks(into map[string]*widget.Check, set func(s *store.Settings, id string, on bool)) *fyne.Container {
	box := container.NewGridWithColumns(2)
	for _, k := range notifier.Kinds {
		id := k.ID
		c := widget.NewCheck(k.Label, func(on bool) { n.update(func(s *store.Settings) { set(s, id, on) }) })
		into[id] = c
		box.Add(c)
	}
	return box
}

// sized gives an entry a sensible width inside an HBox.
func sized(o fyne.CanvasObject, width float32) fyne.CanvasObject {
	return container.NewGridWrap(fyne.NewSize(width, o.MinSize().Height), o)
}

// show shows the stored settings. The minimum amount is left alone while
// it is being typed in or holds something not yet accepted.
func (n *notificationsTab) show(set store.Settings) {
	n.loading = true
	defer func() { n.loading = false }()
	for id, c := range n.types {
		c.SetChecked(set.Enabled(id))
	}
	for id, c := range n.sounds {
		c.SetChecked(set.Rings(id, notifier.KindByID(id).Rings))
	}
	on := set.QuietFrom != "" && set.QuietTo != ""
	n.quiet.SetChecked(on)
	from, to := set.QuietFrom, set.QuietTo
	if !on {
		from, to = defaultQuietFrom, defaultQuietTo
	}
	n.quietFrom.set(from)
	n.quietTo.set(to)
	n.quietFrom.enable(on)
	n.quietTo.enable(on)
	n.digest.SetChecked(!set.NoDigest)
	n.digestAt.set(cmp.Or(set.DigestAt, store.DefaultDigestAt))
	n.digestAt.enable(!set.NoDigest)
	if !n.minimum.focused && n.minimumErr.Hidden {
		n.minimum.SetText(store.FormatMinimum(set.Minimum))
	}
	n.interval.SetSelectedIndex(1)
	for i, iv := range intervals {
		if iv.d == set.PollInterval() {
			n.interval.SetSelectedIndex(i)
		}
	}
	n.hideAmounts.SetChecked(set.HideAmounts)
	n.autostart.SetChecked(n.start.Enabled())
}

// update changes one setting and stores it; every control changes only
// its own, so none undoes another's. The store is read and written away
// from the UI's thread, one change at a time.
func (n *notificationsTab) update(change func(*store.Settings)) {
	if n.loading {
		return
	}
	n.env.fetch(func(ctx context.Context) func() {
		n.saving.Lock()
		defer n.saving.Unlock()
		set, err := n.prefs.Settings(ctx)
		if err == nil {
			change(&set)
			err = n.prefs.SaveSettings(ctx, set)
		}
		return func() {
			if err != nil {
				n.env.log.Error("saving settings", "err", err)
				n.showProblem(fmt.Sprintf("Settings could not be saved: %v. Check that Cashbell's folder is writable, then try again.", err))
				return
			}
			n.problem.Hide()
			n.env.changed()
		}
	})
}

func (n *notificationsTab) showProblem(text string) {
	n.problem.SetText(text)
	n.problem.Show()
}

func (n *notificationsTab) saveDigest() {
	off, at := !n.digest.Checked, n.digestAt.value()
	n.update(func(s *store.Settings) { s.NoDigest, s.DigestAt = off, at })
}

func (n *notificationsTab) saveQuiet() {
	from, to := "", ""
	if n.quiet.Checked {
		from, to = n.quietFrom.value(), n.quietTo.value()
	}
	n.update(func(s *store.Settings) { s.QuietFrom, s.QuietTo = from, to })
}

// minimumHelp says what the minimum amount takes, under a wrong one.
const minimumHelp = "Type an amount such as 10 or 5.50, or leave it empty to be told about every payment."

// saveMinimum runs when the minimum is left or submitted: a good amount is
// stored, a bad one stays as typed with a sentence under it.
func (n *notificationsTab) saveMinimum() {
	milli, err := store.ParseMinimum(n.minimum.Text)
	if err != nil {
		n.minimumErr.SetText(minimumHelp)
		n.minimumErr.Show()
		return
	}
	n.minimumErr.Hide()
	n.update(func(s *store.Settings) { s.Minimum = milli })
}

// clearMinimumError takes the sentence away as soon as what is typed is
// good again; a new mistake is only pointed out when the field is left.
func (n *notificationsTab) clearMinimumError() {
	if _, err := store.ParseMinimum(n.minimum.Text); err == nil {
		n.minimumErr.Hide()
	}
}

func (n *notificationsTab) onAutostart(on bool) {
	if n.loading {
		return
	}
	if err := n.start.Set(on); err != nil {
		n.showProblem("Start at login could not be changed: " + err.Error())
		n.autostart.SetChecked(n.start.Enabled())
	}
}

// leaveEntry is an entry that says when the person is done with it: on
// Enter, or when the focus leaves it.
type leaveEntry struct {
	widget.Entry
	onLeave func()
	focused bool
}

func newLeaveEntry(onLeave func()) *leaveEntry {
	e := &leaveEntry{onLeave: onLeave}
	e.ExtendBaseWidget(e)
	e.OnSubmitted = func(string) { onLeave() }
	return e
}

func (e *leaveEntry) FocusGained() { e.focused = true; e.Entry.FocusGained() }

func (e *leaveEntry) FocusLost() {
	e.focused = false
	e.Entry.FocusLost()
	e.onLeave()
}

// clockPicker is a time of day as an hour and a minute picker, so that it
// can only hold a time.
type clockPicker struct {
	widget.BaseWidget
	hour, minute *widget.Select
	changed      func(string)
	setting      bool
}

func newClockPicker(changed func(string)) *clockPicker {
	c := &clockPicker{changed: changed}
	var hours, minutes []string
	for h := range 24 {
		hours = append(hours, fmt.Sprintf("%02d", h))
	}
	for m := 0; m < 60; m += 5 {
		minutes = append(minutes, fmt.Sprintf("%02d", m))
	}
	on := func(string) {
		if !c.setting {
			c.changed(c.value())
		}
	}
	c.hour, c.minute = widget.NewSelect(hours, on), widget.NewSelect(minutes, on)
	c.ExtendBaseWidget(c)
	return c
}

func (c *clockPicker) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewHBox(sized(c.hour, 64), widget.NewLabel(":"), sized(c.minute, 64)))
}

// set shows "HH:MM"; a minute off the five-minute steps (typed in an older
// version) is offered as it is.
func (c *clockPicker) set(clock string) {
	h, m, ok := strings.Cut(clock, ":")
	if !ok || store.ValidClock(clock) != nil {
		return
	}
	c.setting = true
	defer func() { c.setting = false }()
	if !slices.Contains(c.minute.Options, m) {
		c.minute.Options = append(c.minute.Options, m)
		slices.Sort(c.minute.Options)
	}
	c.hour.SetSelected(h)
	c.minute.SetSelected(m)
}

func (c *clockPicker) value() string { return c.hour.Selected + ":" + c.minute.Selected }

func (c *clockPicker) enable(on bool) {
	for _, s := range []*widget.Select{c.hour, c.minute} {
		if on {
			s.Enable()
		} else {
			s.Disable()
		}
	}
}
