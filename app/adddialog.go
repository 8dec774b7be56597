package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/cashbell/cashbell/accounts"
)

// checkDelay lets a paste finish before the key is checked.
const checkDelay = 300 * time.Millisecond

// addIntro is what the dialog says before a key is pasted.
const addIntro = "Paste a restricted key. Cashbell reads your payments and never changes them."

// addDialog adds an account: it checks the key as it is pasted and shows
// what the key may read before anything is stored.
type addDialog struct {
	env     *env
	reg     registry
	notes   keyNotes
	addDemo func(ctx context.Context) (accounts.AddResult, error)
	parent  fyne.Window
	keys    *dialogKeys
	dlg     *dialog.CustomDialog

	key          *keyedEntry
	connected    *keyedEntry
	name         *keyedEntry
	status       *message // under the key: what the key is, or what is wrong with it
	secret       *fyne.Container
	report       *fyne.Container
	reportScroll *container.Scroll
	cost         *message // what adding now would cost, when permissions are missing
	create       *widget.Button
	addBtn       *widget.Button
	demo         *widget.Button

	gen atomic.Int64 // the latest input; older checks are dropped, off the UI's thread
	// parsed and usable are the UI thread's alone.
	parsed accounts.Key
	usable bool
	onDone func()
	// replacing is the listed account whose key this dialog replaces
	// (Replace key…), else zero; target is the account the checked key
	// would replace: replacing's, or a listed account the key turned out
	// to read.
	replacing, target accounts.Account
}

func newAddDialog(e *env, src sources, parent fyne.Window, keys *dialogKeys) *addDialog {
	d := &addDialog{env: e, reg: src.reg, notes: src.keys, addDemo: src.addDemo, parent: parent, keys: keys}
	d.key = newKeyedEntry(true)
	d.key.SetPlaceHolder("rk_live_… or rk_test_…")
	d.key.AlwaysShowValidationError = true
	d.key.OnChanged = func(string) { d.onInput() }
	d.connected = newKeyedEntry(false)
	d.connected.SetPlaceHolder("acct_… of a connected account")
	d.connected.OnChanged = func(string) { d.onInput() }
	d.name = newKeyedEntry(false)
	d.name.SetPlaceHolder("a name (else Stripe's)")
	for _, en := range []*keyedEntry{d.key, d.connected, d.name} {
		en.onEscape = d.cancel
		en.OnSubmitted = func(string) { d.onConfirm() }
	}
	d.status = newMessage()
	d.cost = newMessage()
	d.report = container.NewVBox()
	d.create = widget.NewButtonWithIcon("Create a key in Stripe", theme.ComputerIcon(), d.onCreateKey)
	d.secret = container.NewHBox(d.create)
	d.addBtn = widget.NewButtonWithIcon("Add account", theme.ConfirmIcon(), d.onConfirm)
	d.addBtn.Importance = widget.HighImportance
	d.addBtn.Disable()
	d.demo = widget.NewButtonWithIcon("Try a demo account", theme.MediaPlayIcon(), d.onTryDemo)
	cancel := widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), d.cancel)

	// Compact, so that the permission list keeps its room on a small
	// screen: the create-a-key button beside the key, the two optional
	// fields on one line.
	form := widget.NewForm(
		widget.NewFormItem("Key", container.NewVBox(container.NewBorder(nil, nil, nil, d.secret, d.key), d.status)),
		widget.NewFormItem("Optional", container.NewGridWithColumns(2, d.connected, d.name)),
	)
	buttons := container.NewVBox(d.cost, container.NewHBox(d.demo, layout.NewSpacer(), cancel, d.addBtn))
	// The permission list is where the user decides: at 150 % on a
	// 768-pixel screen it still shows three rows, not one.
	d.reportScroll = container.NewVScroll(d.report)
	d.reportScroll.SetMinSize(fyne.NewSize(0, reportMinHeight))
	d.dlg = dialog.NewCustomWithoutButtons("Add a Stripe account",
		container.NewBorder(form, buttons, nil, nil, d.reportScroll), parent)
	return d
}

// reportMinHeight is the permission list's least height: about three of its rows.
const reportMinHeight = 140

// openReplace opens the dialog to give a listed account a new key.
func (d *addDialog) openReplace(a accounts.Account, done func()) {
	d.open(done)
	d.replacing = a
	d.connected.SetText(a.ConnectedID())
	d.status.set("Paste "+a.Name+"'s new key. Its events and settings stay.", widget.MediumImportance)
	d.addBtn.SetText("Replace key")
}

// open resets the dialog and shows it; done runs after an account was added.
func (d *addDialog) open(done func()) {
	d.onDone = done
	d.replacing, d.target = accounts.Account{}, accounts.Account{}
	d.addBtn.SetText("Add account")
	d.key.SetText("")
	d.connected.SetText("")
	d.name.SetText("")
	d.report.RemoveAll()
	d.status.set(addIntro, widget.MediumImportance)
	d.cost.clear()
	d.showSecret(false)
	d.addBtn.Disable()
	size := d.parent.Canvas().Size()
	d.dlg.Resize(fyne.NewSize(min(680, size.Width-32), min(560, size.Height-32)))
	d.keys.track(d.dlg, d.onConfirm)
	d.dlg.Show()
	d.parent.Canvas().Focus(d.key)
}

func (d *addDialog) cancel() { d.dlg.Hide() }

// showSecret shows the create-a-key button with the secret-key warning, or
// alone before anything is pasted.
func (d *addDialog) showSecret(secret bool) {
	d.create.Importance = widget.MediumImportance
	if secret {
		d.create.Importance = widget.WarningImportance
	}
	d.create.Refresh()
}

// onInput parses the key at once and checks it against Stripe shortly after
// the typing stops.
func (d *addDialog) onInput() {
	gen := d.gen.Add(1)
	d.usable = false
	d.addBtn.Disable()
	d.report.RemoveAll()
	d.cost.clear()
	d.showSecret(false)
	d.key.SetValidationError(nil)
	key, err := accounts.ParseKey(d.key.Text)
	if err != nil {
		if errors.Is(err, accounts.ErrKeyEmpty) {
			d.status.set(addIntro, widget.MediumImportance)
		} else {
			d.refuse(err)
		}
		return
	}
	d.parsed = key
	d.status.set("Checking the key with Stripe…", widget.MediumImportance)
	connected := strings.TrimSpace(d.connected.Text)
	go func() {
		time.Sleep(checkDelay)
		if d.gen.Load() != gen {
			return
		}
		ctx, cancel := d.env.ctx()
		defer cancel()
		rep, err := d.reg.Check(ctx, key, connected)
		// Whether the key reads an account already listed: then it can
		// replace that account's key.
		var listed accounts.Account
		if err == nil {
			list, _ := d.reg.List(ctx)
			for _, a := range list {
				if a.ID == rep.AccountID+"-"+string(key.Mode()) {
					listed = a
				}
			}
		}
		d.env.do(func() { d.showCheck(gen, rep, err, listed) })
	}()
}

// refuse says, under the key, why it cannot be added.
func (d *addDialog) refuse(err error) {
	d.status.set(say(err), widget.DangerImportance)
	d.key.SetValidationError(err)
	d.relayout()
}

func (d *addDialog) showCheck(gen int64, rep accounts.Report, err error, listed accounts.Account) {
	if d.gen.Load() != gen {
		return
	}
	d.report.RemoveAll()
	if err != nil {
		// The key itself was refused: nothing was checked, so no list of
		// permissions that could not be checked.
		d.env.log.Info("key check failed", "err", err)
		d.refuse(err)
		return
	}
	d.report.Add(reportView(d.env, rep))
	switch {
	case !rep.Usable():
		d.refuse(accounts.ErrEventsNotAllowed)
		return
	case d.replacing.ID != "" && listed.ID != d.replacing.ID:
		d.refuse(fmt.Errorf("%w: it reads %s in %s mode, not %s: paste %s's new key", accounts.ErrOtherAccount, rep.AccountID, rep.Mode, d.replacing.Name, d.replacing.Name))
		return
	case listed.ID != "":
		// A new key for an account already listed: it replaces that
		// account's key, keeping its events and settings.
		d.target = listed
		d.status.set("The key works. It reads "+listed.Name+", which Cashbell already watches: replace its key? Its events and settings stay.", widget.SuccessImportance)
		d.addBtn.SetText("Replace " + listed.Name + "'s key")
	default:
		d.target = accounts.Account{}
		msg := "The key works (" + string(rep.Mode) + " mode, " + rep.AccountID + ")."
		importance := widget.SuccessImportance
		if rep.Kind == accounts.KindSecret {
			msg += " It is a secret key: it can change your Stripe account, not just read it. A restricted key is safer."
			importance = widget.WarningImportance
			d.showSecret(true)
		}
		d.status.set(msg, importance)
		d.addBtn.SetText("Add account")
		if missing := missingLabels(rep); len(missing) > 0 {
			d.cost.set("Adding it now, Cashbell goes without "+strings.Join(missing, ", ")+": the list says what each costs.", widget.WarningImportance)
			d.addBtn.SetText("Add without them")
			if len(missing) == 1 {
				d.addBtn.SetText("Add without it")
			}
		}
	}
	d.usable = true
	d.addBtn.Enable()
	d.relayout()
}

// relayout lays the dialog out again once its messages changed: a wrapped
// label knows its height only once it knows its width.
func (d *addDialog) relayout() {
	d.dlg.Refresh()
	d.dlg.Resize(d.dlg.MinSize().Max(fyne.NewSize(min(680, d.parent.Canvas().Size().Width-32), min(560, d.parent.Canvas().Size().Height-32))))
}

// missingLabels are the permissions the key lacks that are worth having,
// in plain words.
func missingLabels(rep accounts.Report) []string {
	var out []string
	for _, r := range rep.Results {
		if r.Status == accounts.Missing && !r.Optional {
			out = append(out, r.Label)
		}
	}
	return out
}

func (d *addDialog) onCreateKey() {
	mode := accounts.ModeLive
	if !d.parsed.IsZero() {
		mode = d.parsed.Mode()
	}
	d.env.openURL(accounts.CreateKeyURL(mode))
}

func (d *addDialog) onConfirm() {
	key := d.parsed
	if !d.usable || d.addBtn.Disabled() {
		return
	}
	req := accounts.AddRequest{Key: key, Name: d.name.Text, Connected: strings.TrimSpace(d.connected.Text)}
	target := d.target.ID
	d.addBtn.Disable()
	d.status.set("Adding the account and importing its name and logo…", widget.MediumImportance)
	if target != "" {
		d.status.set("Replacing the key…", widget.MediumImportance)
	}
	go func() {
		ctx, cancel := d.env.ctx()
		defer cancel()
		var res accounts.AddResult
		var err error
		if target != "" {
			res, err = d.reg.ReplaceKey(ctx, target, key)
		} else {
			res, err = d.reg.Add(ctx, req)
		}
		d.env.do(func() { d.added(res, err) })
	}()
}

func (d *addDialog) onTryDemo() {
	d.status.set("Starting the demo account…", widget.MediumImportance)
	d.demo.Disable()
	d.addBtn.Disable()
	go func() {
		ctx, cancel := d.env.ctx()
		defer cancel()
		res, err := d.addDemo(ctx)
		d.env.do(func() {
			d.demo.Enable()
			if err != nil {
				d.env.log.Warn("demo not started", "err", err)
				d.status.set("The demo could not start: "+accounts.Redact(err.Error())+".", widget.DangerImportance)
				return
			}
			d.added(res, nil)
		})
	}()
}

func (d *addDialog) added(res accounts.AddResult, err error) {
	if err != nil {
		d.env.log.Warn("account not added", "err", err)
		d.refuse(err)
		d.addBtn.Enable()
		return
	}
	d.dlg.Hide()
	if d.onDone != nil {
		d.onDone()
	}
	var notes []string
	if res.Account.KeyStorage != "" && res.Account.KeyStorage != d.notes.Where() {
		notes = append(notes, d.notes.KeyNote(res.Account.KeyStorage))
	}
	if res.IdentityErr != nil {
		notes = append(notes, "Its name or logo could not be imported: "+
			accounts.Redact(res.IdentityErr.Error())+". You can rename it or choose a logo from its menu.")
	}
	if len(notes) > 0 {
		inform(d.keys, d.parent, "Account added", res.Account.Name+" was added. "+strings.Join(notes, " "))
	}
}

// message is a sentence with the weight it carries: an icon and the
// theme's colour for an error, a warning or good news.
type message struct {
	widget.BaseWidget
	icon *widget.Icon
	text *widget.Label
}

func newMessage() *message {
	m := &message{icon: widget.NewIcon(nil), text: widget.NewLabel("")}
	m.text.Wrapping = fyne.TextWrapWord
	m.ExtendBaseWidget(m)
	return m
}

func (m *message) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewBorder(nil, nil, container.NewVBox(m.icon), nil, m.text))
}

func (m *message) set(text string, importance widget.Importance) {
	var icon fyne.Resource
	switch importance {
	case widget.DangerImportance:
		icon = theme.NewErrorThemedResource(theme.ErrorIcon())
	case widget.WarningImportance:
		icon = theme.NewWarningThemedResource(theme.WarningIcon())
	case widget.SuccessImportance:
		icon = theme.NewSuccessThemedResource(theme.ConfirmIcon())
	}
	m.icon.SetResource(icon)
	m.icon.Hidden = icon == nil
	m.text.Importance = importance
	m.text.SetText(text)
	m.Show()
	m.Refresh()
}

func (m *message) clear() { m.Hide() }

// reportView lists every permission in plain words, Stripe's name beside
// it, with what it gives or what its absence costs.
func reportView(e *env, rep accounts.Report) fyne.CanvasObject {
	rows := container.New(layout.NewFormLayout())
	for _, r := range rep.Results {
		var icon fyne.Resource = theme.NewSuccessThemedResource(theme.ConfirmIcon())
		text := r.Gives
		switch r.Status {
		case accounts.Missing:
			icon = theme.NewErrorThemedResource(theme.CancelIcon())
			if r.Optional {
				icon = theme.NewWarningThemedResource(theme.WarningIcon())
			}
			text = "Missing: " + r.IfMissing
		case accounts.Unknown:
			icon = theme.QuestionIcon()
			text = "Could not check: " + r.Gives
		}
		if advice := r.Advice(); advice != "" {
			text += ". " + advice
		}
		if r.Name == accounts.PermFileWrite {
			text += ". It is the one write permission, and optional: it only makes a link that serves the logo once"
		}
		name := widget.NewLabelWithStyle(r.Label, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		label := container.NewVBox(name)
		if shown := r.Shown(); shown != "" {
			label.Add(secondaryText(shown))
		}
		desc := widget.NewLabel(text)
		desc.Wrapping = fyne.TextWrapWord
		rows.Add(container.NewHBox(container.NewVBox(widget.NewIcon(icon)), label))
		rows.Add(desc)
	}
	if len(rep.MissingNames()) == 0 {
		return rows
	}
	link := widget.NewButtonWithIcon("Create a restricted key with every permission", theme.ComputerIcon(),
		func() { e.openURL(rep.CreateKeyURL()) })
	return container.NewVBox(rows, container.NewHBox(link))
}

// secondaryText is small print in the placeholder colour, which the theme
// keeps readable (4.5:1).
func secondaryText(s string) *widget.RichText {
	return widget.NewRichText(&widget.TextSegment{Text: s,
		Style: widget.RichTextStyle{ColorName: theme.ColorNamePlaceHolder, SizeName: theme.SizeNameCaptionText, Inline: true}})
}

// say words an error for the window: what happened, and what to do here.
func say(err error) string {
	return capitalise(accounts.Explain(err, "create a restricted key with the button below and paste it"))
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:] + "."
}
