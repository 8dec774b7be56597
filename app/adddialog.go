package app

import (
	"errors"
	"strings"
	"sync"
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

// addDialog adds an account: it checks the key as it is pasted and shows
// what the key may read before anything is stored.
type addDialog struct {
	env    *env
	parent fyne.Window
	dlg    *dialog.CustomDialog

	key       *widget.Entry
	connected *widget.Entry
	name      *widget.Entry
	status    *widget.Label
	report    *fyne.Container
	create    *widget.Button
	addBtn    *widget.Button
	demo      *widget.Button

	mu       sync.Mutex
	gen      int // the latest input; older checks are dropped
	parsed   accounts.Key
	usable   bool
	checking bool
	onDone   func()
}

func newAddDialog(e *env, parent fyne.Window) *addDialog {
	d := &addDialog{env: e, parent: parent}
	d.key = widget.NewPasswordEntry()
	d.key.SetPlaceHolder("rk_live_… or rk_test_…")
	d.key.OnChanged = func(string) { d.onInput() }
	d.connected = widget.NewEntry()
	d.connected.SetPlaceHolder("acct_… (optional: a connected account of your platform)")
	d.connected.OnChanged = func(string) { d.onInput() }
	d.name = widget.NewEntry()
	d.name.SetPlaceHolder("optional: imported from Stripe when the key allows")
	d.status = widget.NewLabel("Paste a restricted key. Cashbell only reads; it never changes your account.")
	d.status.Wrapping = fyne.TextWrapWord
	d.report = container.NewVBox()
	d.create = widget.NewButtonWithIcon("Create a restricted key in Stripe", theme.ComputerIcon(), d.onCreateKey)
	d.addBtn = widget.NewButtonWithIcon("Add account", theme.ConfirmIcon(), d.onConfirm)
	d.addBtn.Importance = widget.HighImportance
	d.addBtn.Disable()
	d.demo = widget.NewButtonWithIcon("Try a demo account", theme.MediaPlayIcon(), d.onTryDemo)
	cancel := widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), func() { d.dlg.Hide() })

	form := widget.NewForm(
		widget.NewFormItem("Key", d.key),
		widget.NewFormItem("Connected account", d.connected),
		widget.NewFormItem("Name", d.name),
	)
	top := container.NewVBox(form, d.status, d.create)
	buttons := container.NewHBox(d.demo, layout.NewSpacer(), cancel, d.addBtn)
	d.dlg = dialog.NewCustomWithoutButtons("Add a Stripe account",
		container.NewBorder(top, buttons, nil, nil, container.NewVScroll(d.report)), parent)
	d.dlg.Resize(fyne.NewSize(700, 520))
	return d
}

// open resets the dialog and shows it; done runs after an account was added.
func (d *addDialog) open(done func()) {
	d.onDone = done
	d.key.SetText("")
	d.connected.SetText("")
	d.name.SetText("")
	d.report.RemoveAll()
	d.status.SetText("Paste a restricted key. Cashbell only reads; it never changes your account.")
	d.addBtn.Disable()
	d.dlg.Show()
	d.parent.Canvas().Focus(d.key)
}

// onInput parses the key at once and checks it against Stripe shortly after
// the typing stops.
func (d *addDialog) onInput() {
	d.mu.Lock()
	d.gen++
	gen := d.gen
	d.usable = false
	d.mu.Unlock()
	d.addBtn.Disable()
	d.report.RemoveAll()
	key, err := accounts.ParseKey(d.key.Text)
	if err != nil {
		if errors.Is(err, accounts.ErrKeyEmpty) {
			d.status.SetText("Paste a restricted key. Cashbell only reads; it never changes your account.")
		} else {
			d.status.SetText(capitalise(err.Error()))
		}
		return
	}
	d.mu.Lock()
	d.parsed = key
	d.checking = true
	d.mu.Unlock()
	d.status.SetText("Checking the key with Stripe…")
	connected := strings.TrimSpace(d.connected.Text)
	go func() {
		time.Sleep(checkDelay)
		if !d.current(gen) {
			d.mu.Lock()
			d.checking = false
			d.mu.Unlock()
			return
		}
		ctx, cancel := d.env.ctx()
		defer cancel()
		rep, err := d.env.reg.Check(ctx, key, connected)
		d.env.do(func() { d.showCheck(gen, rep, err) })
	}()
}

// busy reports whether a check is still on its way.
func (d *addDialog) busy() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.checking
}

func (d *addDialog) current(gen int) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return gen == d.gen
}

func (d *addDialog) showCheck(gen int, rep accounts.Report, err error) {
	defer func() {
		d.mu.Lock()
		d.checking = false
		d.mu.Unlock()
	}()
	if !d.current(gen) {
		return
	}
	d.report.RemoveAll()
	if len(rep.Results) > 0 {
		d.report.Add(reportView(d.env, rep))
	}
	switch {
	case err != nil:
		d.env.log.Info("key check failed", "err", err)
		d.status.SetText(capitalise(accounts.Redact(err.Error())))
		return
	case !rep.Usable():
		d.status.SetText(capitalise(accounts.ErrEventsNotAllowed.Error()))
		return
	}
	msg := "The key works (" + string(rep.Mode) + " mode, " + rep.AccountID + ")."
	if n := len(rep.MissingNames()); n > 0 {
		msg += " Some permissions are missing; see below."
	}
	for _, w := range rep.Warnings() {
		msg += "\n" + w
	}
	d.status.SetText(msg)
	d.dlg.Refresh() // a longer status may need another line
	d.mu.Lock()
	d.usable = true
	d.mu.Unlock()
	d.addBtn.Enable()
}

func (d *addDialog) onCreateKey() {
	mode := accounts.ModeLive
	d.mu.Lock()
	if !d.parsed.IsZero() {
		mode = d.parsed.Mode()
	}
	d.mu.Unlock()
	d.env.openURL(accounts.CreateKeyURL(mode))
}

func (d *addDialog) onConfirm() {
	d.mu.Lock()
	key, ok := d.parsed, d.usable
	d.mu.Unlock()
	if !ok {
		return
	}
	req := accounts.AddRequest{Key: key, Name: d.name.Text, Connected: strings.TrimSpace(d.connected.Text)}
	d.addBtn.Disable()
	d.status.SetText("Adding the account and importing its name and logo…")
	go func() {
		ctx, cancel := d.env.ctx()
		defer cancel()
		res, err := d.env.reg.Add(ctx, req)
		d.env.do(func() { d.added(res, err) })
	}()
}

func (d *addDialog) onTryDemo() {
	d.status.SetText("Starting the demo account…")
	d.demo.Disable()
	go func() {
		ctx, cancel := d.env.ctx()
		defer cancel()
		res, err := d.env.addDemo(ctx)
		d.env.do(func() {
			d.demo.Enable()
			d.added(res, err)
		})
	}()
}

func (d *addDialog) added(res accounts.AddResult, err error) {
	if err != nil {
		d.env.log.Warn("account not added", "err", err)
		d.status.SetText(capitalise(accounts.Redact(err.Error())))
		d.addBtn.Enable()
		return
	}
	d.dlg.Hide()
	if d.onDone != nil {
		d.onDone()
	}
	var notes []string
	if res.Account.KeyStorage != "" && res.Account.KeyStorage != d.env.keys.Where() {
		notes = append(notes, d.env.keys.KeyNote(res.Account.KeyStorage))
	}
	if res.IdentityErr != nil {
		notes = append(notes, "Its name or logo could not be imported: "+
			accounts.Redact(res.IdentityErr.Error())+". You can rename it or choose a logo.")
	}
	if len(notes) > 0 {
		dialog.ShowInformation("Account added", res.Account.Name+" was added. "+strings.Join(notes, " "), d.parent)
	}
}

// reportView lists every permission with what it gives or what its absence costs.
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
			// The status line above says why; one reason is enough.
			icon = theme.QuestionIcon()
			text = "Could not check"
		}
		if advice := r.Advice(); advice != "" {
			text += ". " + advice
		}
		label := r.Label
		if shown := r.Shown(); shown != "" {
			label += " · " + shown
		}
		name := widget.NewLabel(label)
		desc := widget.NewLabel(text)
		desc.Wrapping = fyne.TextWrapWord
		rows.Add(container.NewHBox(widget.NewIcon(icon), name))
		rows.Add(desc)
	}
	if len(rep.MissingNames()) == 0 {
		return rows
	}
	link := widget.NewButtonWithIcon("Create a restricted key with every permission", theme.ComputerIcon(),
		func() { e.openURL(accounts.CreateKeyURL(rep.Mode)) })
	return container.NewVBox(rows, link)
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:] + "."
}
