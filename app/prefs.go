package app

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/cashbell/cashbell/accounts"
	"github.com/cashbell/cashbell/assets"
)

// prefsWindow is the Preferences window: an Accounts tab and a Notifications tab.
type prefsWindow struct {
	env    *env
	win    fyne.Window
	tabs   *container.AppTabs
	list   *widget.List
	notifs *notificationsTab

	accounts []accounts.Account
	selected int

	rename, logo, reimport, recheck, remove *widget.Button
	mute                                    *widget.Check
	empty                                   *widget.Label
	keysNote                                *widget.Label
	add                                     *addDialog
	shown                                   bool
}

func newPrefsWindow(a fyne.App, e *env) *prefsWindow {
	p := &prefsWindow{env: e, win: a.NewWindow("Cashbell Preferences"), selected: -1}
	p.notifs = newNotificationsTab(e, p.win)
	p.build()
	p.win.Resize(fyne.NewSize(760, 540))
	return p
}

func (p *prefsWindow) build() {
	p.list = widget.NewList(
		func() int { return len(p.accounts) },
		newAccountRow,
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < len(p.accounts) {
				o.(*fyne.Container).Objects[0].(*accountRow).set(p.accounts[id])
			}
		})
	p.list.OnSelected = func(id widget.ListItemID) { p.selected = id; p.updateButtons() }
	p.list.OnUnselected = func(widget.ListItemID) { p.selected = -1; p.updateButtons() }

	addBtn := widget.NewButtonWithIcon("Add account…", theme.ContentAddIcon(), p.onAdd)
	addBtn.Importance = widget.HighImportance
	p.rename = widget.NewButtonWithIcon("Rename…", theme.DocumentCreateIcon(), p.onRename)
	p.logo = widget.NewButtonWithIcon("Choose logo…", theme.FileImageIcon(), p.onChooseLogo)
	p.reimport = widget.NewButtonWithIcon("Import name and logo again", theme.DownloadIcon(), p.onReimport)
	p.recheck = widget.NewButtonWithIcon("Check key again", theme.ViewRefreshIcon(), p.onRecheck)
	p.remove = widget.NewButtonWithIcon("Remove…", theme.DeleteIcon(), p.onRemove)
	p.remove.Importance = widget.DangerImportance
	p.mute = widget.NewCheck("Mute this account's notifications", p.onMute)
	// Not wrapped: a wrapping label in a centring container asks for a
	// word-per-line height and stretches the window.
	p.empty = widget.NewLabel("No accounts yet. Add one with a restricted key, or try the demo account.")

	p.keysNote = widget.NewLabel("")
	p.keysNote.Wrapping = fyne.TextWrapWord
	p.keysNote.TextStyle.Italic = true

	actions := container.NewGridWithColumns(3, p.rename, p.logo, p.reimport, p.recheck, p.remove, p.mute)
	bottom := container.NewVBox(widget.NewSeparator(), actions, p.keysNote)
	top := container.NewHBox(addBtn, layout.NewSpacer())
	accountsTab := container.NewBorder(top, bottom, nil, nil, container.NewStack(p.list, container.NewCenter(p.empty)))

	p.tabs = container.NewAppTabs(
		container.NewTabItemWithIcon("Accounts", theme.AccountIcon(), container.NewPadded(accountsTab)),
		container.NewTabItemWithIcon("Notifications", theme.MailComposeIcon(), p.notifs.build()),
	)
	p.win.SetContent(p.tabs)
	p.add = newAddDialog(p.env, p.win)
	p.updateButtons()
}

func (p *prefsWindow) show() {
	p.shown = true
	p.refresh()
	p.win.Show()
	p.win.RequestFocus()
}

// refresh reloads the accounts list, keeping the selection by id.
func (p *prefsWindow) refresh() {
	ctx, cancel := p.env.ctx()
	defer cancel()
	var keep string
	if p.selected >= 0 && p.selected < len(p.accounts) {
		keep = p.accounts[p.selected].ID
	}
	list, err := p.env.reg.List(ctx)
	if err != nil {
		p.env.log.Error("listing accounts", "err", err)
		return
	}
	p.accounts = list
	p.selected = -1
	p.list.UnselectAll()
	for i, a := range list {
		if a.ID == keep {
			p.selected = i
			p.list.Select(i)
		}
	}
	p.list.Refresh()
	p.empty.Hidden = len(list) > 0
	p.empty.Refresh()
	p.keysNote.SetText(p.env.keys.Summary(list))
	p.notifs.refresh()
	p.updateButtons()
}

func (p *prefsWindow) current() (accounts.Account, bool) {
	if p.selected < 0 || p.selected >= len(p.accounts) {
		return accounts.Account{}, false
	}
	return p.accounts[p.selected], true
}

func (p *prefsWindow) updateButtons() {
	a, ok := p.current()
	for _, b := range []*widget.Button{p.rename, p.logo, p.reimport, p.recheck, p.remove} {
		if ok {
			b.Enable()
		} else {
			b.Disable()
		}
	}
	if ok {
		p.mute.Enable()
		p.mute.Checked = a.Muted
	} else {
		p.mute.Checked = false
		p.mute.Disable()
	}
	p.mute.Refresh()
}

// showError logs the details and tells the person what to do next.
func (p *prefsWindow) showError(what string, err error) {
	p.env.log.Error(what, "err", err)
	dialog.ShowError(errors.New(accounts.Redact(err.Error())), p.win)
}

func (p *prefsWindow) onAdd() {
	p.tabs.SelectIndex(0)
	p.add.open(func() { p.refresh(); p.env.poll.Reload(); p.env.changed() })
}

func (p *prefsWindow) onTryDemo() {
	p.tabs.SelectIndex(0)
	p.add.open(func() { p.refresh(); p.env.poll.Reload(); p.env.changed() })
	p.add.onTryDemo()
}

func (p *prefsWindow) onRename() {
	a, ok := p.current()
	if !ok {
		return
	}
	entry := widget.NewEntry()
	entry.SetText(a.Name)
	entry.SetPlaceHolder(a.ImportedName)
	hint := widget.NewLabel("Leave empty to use the name from Stripe (" + a.ImportedName + ").")
	hint.Wrapping = fyne.TextWrapWord
	dialog.ShowCustomConfirm("Rename "+a.Name, "Rename", "Cancel", container.NewVBox(entry, hint), func(ok bool) {
		if !ok {
			return
		}
		ctx, cancel := p.env.ctx()
		defer cancel()
		if _, err := p.env.reg.Rename(ctx, a.ID, entry.Text); err != nil {
			p.showError("renaming", err)
		}
		p.refresh()
		p.env.changed()
	}, p.win)
}

func (p *prefsWindow) onChooseLogo() {
	a, ok := p.current()
	if !ok {
		return
	}
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		defer r.Close()
		data, err := io.ReadAll(io.LimitReader(r, accounts.MaxLogoBytes+1))
		if err != nil {
			p.showError("reading the logo", fmt.Errorf("that file could not be read: %w", err))
			return
		}
		p.setLogo(a.ID, data)
	}, p.win)
	d.SetFilter(storage.NewExtensionFileFilter([]string{".png", ".jpg", ".jpeg", ".gif", ".ico"}))
	d.Show()
}

func (p *prefsWindow) setLogo(id string, data []byte) {
	ctx, cancel := p.env.ctx()
	defer cancel()
	if _, err := p.env.reg.SetLogo(ctx, id, data); err != nil {
		p.showError("setting the logo", err)
		return
	}
	p.refresh()
	p.env.changed()
}

// runAsync runs slow work (it talks to Stripe) off Fyne's thread with a
// progress bar, then calls done on Fyne's thread.
func (p *prefsWindow) runAsync(title string, work func() error, done func(error)) {
	bar := dialog.NewCustomWithoutButtons(title, widget.NewProgressBarInfinite(), p.win)
	bar.Show()
	go func() {
		err := work()
		p.env.do(func() {
			bar.Hide()
			done(err)
		})
	}()
}

func (p *prefsWindow) onReimport() { p.recheckCurrent("Importing name and logo…") }
func (p *prefsWindow) onRecheck()  { p.recheckCurrent("Checking the key…") }

func (p *prefsWindow) recheckCurrent(title string) {
	a, ok := p.current()
	if !ok {
		return
	}
	var rep accounts.Report
	var updated accounts.Account
	p.runAsync(title, func() error {
		ctx, cancel := p.env.ctx()
		defer cancel()
		var err error
		updated, rep, err = p.env.reg.Recheck(ctx, a.ID)
		return err
	}, func(err error) {
		p.refresh()
		p.env.poll.Reload()
		p.env.changed()
		switch {
		case err != nil:
			p.showError("checking the key", err)
		case len(updated.Missing) > 0:
			dialog.ShowCustom("Key checked", "Close", reportView(p.env, rep), p.win)
		default:
			dialog.ShowInformation("Key checked", updated.Name+": the key works and has every permission Cashbell asks for.", p.win)
		}
	})
}

func (p *prefsWindow) onRemove() {
	a, ok := p.current()
	if !ok {
		return
	}
	msg := fmt.Sprintf("Remove %s (%s mode)? Cashbell forgets its key and its stored events. Your Stripe account is not touched.", a.Name, a.Mode)
	dialog.ShowConfirm("Remove account", msg, func(ok bool) {
		if !ok {
			return
		}
		ctx, cancel := p.env.ctx()
		defer cancel()
		if err := p.env.reg.Remove(ctx, a.ID); err != nil {
			p.showError("removing the account", err)
		}
		p.refresh()
		p.env.poll.Reload()
		p.env.changed()
	}, p.win)
}

func (p *prefsWindow) onMute(on bool) {
	a, ok := p.current()
	if !ok || a.Muted == on {
		return
	}
	ctx, cancel := p.env.ctx()
	defer cancel()
	if _, err := p.env.reg.Update(ctx, a.ID, func(acc *accounts.Account) { acc.Muted = on }); err != nil {
		p.showError("muting", err)
	}
	p.refresh()
}

// accountRow shows one account: logo, name, mode badge, masked key, status.
type accountRow struct {
	widget.BaseWidget
	logo   *canvas.Image
	name   *widget.Label
	badge  *badge
	demo   *badge
	detail *widget.Label
	status *widget.Label
}

func newAccountRow() fyne.CanvasObject {
	r := &accountRow{
		logo:   canvas.NewImageFromResource(assets.AccountLogo),
		name:   widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		badge:  newBadge(),
		demo:   newBadge(),
		detail: widget.NewLabel(""),
		status: widget.NewLabel(""),
	}
	r.logo.FillMode = canvas.ImageFillContain
	r.logo.SetMinSize(fyne.NewSize(40, 40))
	r.ExtendBaseWidget(r)
	return container.NewStack(r)
}

func (r *accountRow) CreateRenderer() fyne.WidgetRenderer {
	line1 := container.NewHBox(r.name, container.NewCenter(r.badge), container.NewCenter(r.demo))
	line2 := container.NewHBox(r.detail, r.status)
	return widget.NewSimpleRenderer(container.NewBorder(nil, nil, container.NewCenter(r.logo), nil,
		container.NewVBox(line1, line2)))
}

func (r *accountRow) set(a accounts.Account) {
	if a.Logo != "" {
		r.logo.Resource = nil
		r.logo.File = a.Logo
	} else {
		r.logo.File = ""
		r.logo.Resource = assets.AccountLogo
	}
	r.logo.Refresh()
	r.name.SetText(a.Name)
	if a.Live() {
		r.badge.set("LIVE", color.NRGBA{R: 0x2e, G: 0x9d, B: 0x55, A: 0xff})
	} else {
		r.badge.set("TEST", color.NRGBA{R: 0xe0, G: 0x8a, B: 0x00, A: 0xff})
	}
	if a.Demo {
		r.demo.set("DEMO", color.NRGBA{R: 0x63, G: 0x5b, B: 0xff, A: 0xff})
	} else {
		r.demo.Hide()
	}
	r.detail.SetText(a.KeyMasked + " · " + a.StripeAccount + " · " + keptIn(a.KeyStorage))
	r.status.SetText(statusText(a))
	if a.Status == accounts.StatusOK {
		r.status.Importance = widget.SuccessImportance
	} else {
		r.status.Importance = widget.WarningImportance
	}
	r.status.Refresh()
}

// keptIn says where an account's key is, for its row.
func keptIn(where accounts.Storage) string {
	if where == accounts.StorageFile {
		return "key in keys.json"
	}
	return "key in keyring"
}

func statusText(a accounts.Account) string {
	switch a.Status {
	case accounts.StatusOK:
		if len(a.Missing) > 0 {
			return "OK (optional: " + strings.Join(a.Missing, ", ") + ")"
		}
		return "OK"
	case accounts.StatusMissingPermissions:
		return "Missing permissions: " + strings.Join(a.Missing, ", ")
	case accounts.StatusPermissionLost:
		return "Stripe stopped showing events to this key: check its permissions, then Check key again"
	case accounts.StatusKeyRevoked:
		return "Key revoked or expired — add a new key"
	case accounts.StatusOffline:
		return "Offline — retrying"
	}
	return string(a.Status)
}

// badge is a small coloured label such as LIVE or TEST.
type badge struct {
	widget.BaseWidget
	bg   *canvas.Rectangle
	text *canvas.Text
}

func newBadge() *badge {
	b := &badge{bg: canvas.NewRectangle(color.Transparent), text: canvas.NewText("", color.White)}
	b.bg.CornerRadius = 4
	b.text.TextSize = 10
	b.text.TextStyle.Bold = true
	b.ExtendBaseWidget(b)
	return b
}

func (b *badge) set(text string, c color.Color) {
	b.text.Text = text
	b.bg.FillColor = c
	b.Show()
	b.Refresh()
}

func (b *badge) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewStack(b.bg, container.New(layout.NewCustomPaddedLayout(1, 1, 6, 6), b.text)))
}
