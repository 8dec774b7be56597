package app

import (
	"context"
	"errors"
	"fmt"
	"image/color"
	"io"
	"slices"
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
	"github.com/cashbell/cashbell/notifier"
)

// prefsSize is the size Preferences asks for; a smaller screen gets less.
var prefsSize = fyne.NewSize(720, 520)

// prefsWindow is the Preferences window: an Accounts tab and a Notifications tab.
type prefsWindow struct {
	env    *env
	src    sources // the add dialog's and the notifications tab's
	reg    registry
	poll   pollControl
	notes  keyNotes
	prefs  preferences
	win    fyne.Window
	keys   *dialogKeys
	tabs   *container.AppTabs
	list   *widget.List
	notifs *notificationsTab

	accounts []accounts.Account

	empty    *fyne.Container
	keysNote *widget.Label
	noTray   *message
	add      *addDialog
	shown    bool
	sized    bool
}

func newPrefsWindow(a fyne.App, e *env, src sources) *prefsWindow {
	p := &prefsWindow{env: e, src: src, reg: src.reg, poll: src.poll, notes: src.keys, prefs: src.prefs, win: a.NewWindow("Cashbell Preferences")}
	p.keys = newDialogKeys(p.win)
	p.notifs = newNotificationsTab(e, src.prefs, src.autostart, src.bell)
	p.build()
	p.win.Resize(prefsSize)
	return p
}

func (p *prefsWindow) build() {
	p.list = widget.NewList(
		func() int { return len(p.accounts) },
		func() fyne.CanvasObject { return newAccountRow(p) },
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < len(p.accounts) {
				o.(*accountRow).set(p.accounts[id])
			}
		})
	// A row is not a selection: its actions are in its own menu.
	p.list.OnSelected = func(id widget.ListItemID) { p.list.Unselect(id) }

	addBtn := widget.NewButtonWithIcon("Add account…", theme.ContentAddIcon(), p.onAdd)
	addBtn.Importance = widget.HighImportance
	emptyText := widget.NewLabel("No accounts yet. Add one with a restricted key, or try the demo account.")
	emptyText.Wrapping = fyne.TextWrapWord
	emptyText.Alignment = fyne.TextAlignCenter
	p.empty = container.NewVBox(layout.NewSpacer(), emptyText,
		container.NewCenter(widget.NewButtonWithIcon("Try the demo account", theme.MediaPlayIcon(), p.onTryDemo)), layout.NewSpacer())

	p.keysNote = widget.NewLabel("")
	p.keysNote.Wrapping = fyne.TextWrapWord
	p.keysNote.TextStyle.Italic = true

	p.noTray = newMessage()
	p.noTray.clear()
	top := container.NewVBox(p.noTray, container.NewHBox(addBtn, layout.NewSpacer()))
	bottom := container.NewVBox(widget.NewSeparator(), p.keysNote)
	accountsTab := container.NewBorder(top, bottom, nil, nil, container.NewStack(p.list, p.empty))

	p.tabs = container.NewAppTabs(
		container.NewTabItemWithIcon("Accounts", theme.AccountIcon(), container.NewPadded(accountsTab)),
		container.NewTabItemWithIcon("Notifications", theme.MailComposeIcon(), p.notifs.build()),
	)
	p.win.SetContent(p.tabs)
	p.add = newAddDialog(p.env, p.src, p.win, p.keys)
}

func (p *prefsWindow) show() {
	p.shown = true
	p.refresh()
	p.win.Show()
	if !p.sized {
		p.sized = true
		p.env.fit(p.win, prefsSize)
	}
	p.win.RequestFocus()
}

// setNoTray says, at the top of the window, that the desktop shows no tray
// icons and what to do about it.
func (p *prefsWindow) setNoTray(on bool) {
	if !on {
		p.noTray.clear()
		return
	}
	p.noTray.set("This desktop shows no tray icons, so Cashbell's bell is not in the panel. On GNOME, install and enable "+
		"the AppIndicator extension (gnome-shell-extension-appindicator), then log in again. Until then, close this window "+
		"and Cashbell keeps watching; start Cashbell again to bring the window back.", widget.WarningImportance)
}

// refresh reloads the accounts and the settings away from the UI's
// thread (in the UI process each read is a call to the tray), and
// shows them when they come.
func (p *prefsWindow) refresh() {
	p.env.fetch(func(ctx context.Context) func() {
		list, err := p.reg.List(ctx)
		var summary string
		if err == nil {
			summary = p.notes.Summary(list)
		}
		set, serr := p.prefs.Settings(ctx)
		return func() {
			if err != nil {
				p.env.log.Error("listing accounts", "err", err)
				return
			}
			p.accounts = list
			p.list.Refresh()
			p.empty.Hidden = len(list) > 0
			p.empty.Refresh()
			p.keysNote.SetText(summary)
			if serr != nil {
				p.env.log.Error("reading settings", "err", serr)
				return
			}
			p.notifs.show(set)
		}
	})
}

// listed runs f, once chosen, on the account with id as last listed, if
// it still is: the list may have changed while the menu was open.
func (p *prefsWindow) listed(id string, f func(accounts.Account)) func() {
	return func() {
		if i := slices.IndexFunc(p.accounts, func(a accounts.Account) bool { return a.ID == id }); i >= 0 {
			f(p.accounts[i])
		}
	}
}

// errOf is a call's error, for changes whose result the list shows anyway.
func errOf[T any](_ T, err error) error { return err }

// showError logs the details and tells the person what to do next.
func (p *prefsWindow) showError(what string, err error) {
	p.env.log.Error(what, "err", err)
	d := dialog.NewError(errors.New(say(err)), p.win)
	p.keys.track(d, d.Dismiss)
	d.Show()
}

func (p *prefsWindow) onAdd() {
	p.tabs.SelectIndex(0)
	p.add.open(func() { p.refresh(); p.poll.Reload(); p.env.changed() })
}

// onReplaceKey asks for a new key for an account whose key was rolled or
// revoked: its events and settings stay.
func (p *prefsWindow) onReplaceKey(a accounts.Account) {
	p.tabs.SelectIndex(0)
	p.add.openReplace(a, func() { p.refresh(); p.poll.Reload(); p.env.changed() })
}

func (p *prefsWindow) onTryDemo() {
	p.tabs.SelectIndex(0)
	p.add.open(func() { p.refresh(); p.poll.Reload(); p.env.changed() })
	p.add.onTryDemo()
}

// menu is an account's actions, for the button on its row.
func (p *prefsWindow) menu(a accounts.Account) *fyne.Menu {
	mute := fyne.NewMenuItem("Mute notifications", func() { p.setMuted(a.ID, true) })
	if a.Muted {
		mute = fyne.NewMenuItem("Unmute notifications", func() { p.setMuted(a.ID, false) })
	}
	remove := fyne.NewMenuItem("Remove account…", p.listed(a.ID, p.onRemove))
	remove.Icon = theme.DeleteIcon()
	return fyne.NewMenu("",
		fyne.NewMenuItem("Refresh from Stripe", p.listed(a.ID, p.onRefresh)),
		fyne.NewMenuItem("Replace key…", func() { p.onReplaceKey(a) }),
		fyne.NewMenuItem("Rename…", p.listed(a.ID, p.onRename)),
		fyne.NewMenuItem("Choose logo…", func() { p.onChooseLogo(a.ID) }),
		mute,
		fyne.NewMenuItem("Open in Stripe", func() { p.env.openURL(notifier.DashboardHome(source(a))) }),
		fyne.NewMenuItemSeparator(),
		remove,
	)
}

func (p *prefsWindow) onRename(a accounts.Account) {
	entry := newKeyedEntry(false)
	entry.SetText(a.Name)
	entry.SetPlaceHolder(a.ImportedName)
	hint := widget.NewLabel("Leave it empty to use the name from Stripe (" + a.ImportedName + ").")
	hint.Wrapping = fyne.TextWrapWord
	var d *dialog.CustomDialog
	rename := func() {
		d.Hide()
		name := entry.Text
		p.change("renaming", func(ctx context.Context) error { return errOf(p.reg.Rename(ctx, a.ID, name)) })
	}
	save := widget.NewButton("Rename", rename)
	save.Importance = widget.HighImportance
	d = dialog.NewCustomWithoutButtons("Rename "+a.Name, container.NewVBox(entry, hint), p.win)
	d.SetButtons([]fyne.CanvasObject{widget.NewButton("Cancel", d.Hide), save})
	entry.OnSubmitted = func(string) { rename() }
	entry.onEscape = d.Hide
	p.keys.track(d, rename)
	d.Resize(fyne.NewSize(min(420, p.win.Canvas().Size().Width-40), d.MinSize().Height))
	d.Show()
	p.win.Canvas().Focus(entry)
}

func (p *prefsWindow) onChooseLogo(id string) {
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
		p.change("setting the logo", func(ctx context.Context) error { return errOf(p.reg.SetLogo(ctx, id, data)) })
	}, p.win)
	d.SetFilter(storage.NewExtensionFileFilter([]string{".png", ".jpg", ".jpeg", ".gif", ".ico"}))
	d.Show()
}

// change makes a change to an account away from the UI's thread, then says
// what went wrong, if anything, and shows the accounts as they are now.
func (p *prefsWindow) change(what string, work func(ctx context.Context) error) {
	p.env.fetch(func(ctx context.Context) func() {
		err := work(ctx)
		return func() {
			if err != nil {
				p.showError(what, err)
			}
			p.refresh()
			p.env.changed()
		}
	})
}

// onRefresh checks the key again and imports the name and logo again: one
// visit to Stripe answers both. It is slow, so a progress bar shows while
// it runs off Fyne's thread.
func (p *prefsWindow) onRefresh(a accounts.Account) {
	bar := dialog.NewCustomWithoutButtons("Refreshing "+a.Name+" from Stripe…", widget.NewProgressBarInfinite(), p.win)
	bar.Show()
	go func() {
		ctx, cancel := p.env.ctx()
		defer cancel()
		updated, rep, err := p.reg.Recheck(ctx, a.ID)
		p.env.do(func() {
			bar.Hide()
			p.refresh()
			p.poll.Reload()
			p.env.changed()
			switch {
			case err != nil:
				p.showError("checking the key", err)
			case len(updated.Missing) > 0:
				d := dialog.NewCustom(updated.Name+": some permissions are missing", "Close", reportView(p.env, rep), p.win)
				p.keys.track(d, d.Hide)
				d.Resize(fyne.NewSize(min(640, p.win.Canvas().Size().Width-40), min(460, p.win.Canvas().Size().Height-40)))
				d.Show()
			default:
				inform(p.keys, p.win, "Refreshed", updated.Name+": the key works, has every permission Cashbell asks for, and the name and logo are Stripe's current ones.")
			}
		})
	}()
}

func (p *prefsWindow) onRemove(a accounts.Account) {
	msg := fmt.Sprintf("Cashbell forgets the key of %s (%s mode) and its stored events. Your Stripe account is not touched.", a.Name, a.Mode)
	confirm(p.keys, p.win, "Remove "+a.Name+"?", msg, "Remove account", func() {
		p.change("removing the account", func(ctx context.Context) error {
			err := p.reg.Remove(ctx, a.ID)
			p.poll.Reload()
			return err
		})
	})
}

func (p *prefsWindow) setMuted(id string, on bool) {
	p.change("muting", func(ctx context.Context) error { return errOf(p.reg.SetMuted(ctx, id, on)) })
}

// accountRow shows one account: logo, name, mode badge, masked key, status,
// and a button with the account's actions.
type accountRow struct {
	widget.BaseWidget
	prefs   *prefsWindow
	account accounts.Account
	logo    *canvas.Image
	name    *widget.Label
	badge   *badge
	demo    *badge
	detail  *widget.Label
	status  *widget.Label
	actions *widget.Button
}

func newAccountRow(p *prefsWindow) *accountRow {
	r := &accountRow{
		prefs:  p,
		logo:   canvas.NewImageFromResource(assets.AccountLogo),
		name:   widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		badge:  newBadge(),
		demo:   newBadge(),
		detail: widget.NewLabel(""),
		status: widget.NewLabel(""),
	}
	r.name.Truncation = fyne.TextTruncateEllipsis
	r.detail.Truncation = fyne.TextTruncateEllipsis
	r.status.Truncation = fyne.TextTruncateEllipsis
	r.actions = widget.NewButtonWithIcon("", theme.MoreVerticalIcon(), r.showMenu)
	r.actions.Importance = widget.LowImportance
	r.logo.FillMode = canvas.ImageFillContain
	r.logo.SetMinSize(fyne.NewSize(40, 40))
	r.ExtendBaseWidget(r)
	return r
}

func (r *accountRow) CreateRenderer() fyne.WidgetRenderer {
	line1 := container.NewBorder(nil, nil, nil, container.NewHBox(container.NewCenter(r.badge), container.NewCenter(r.demo)), r.name)
	return widget.NewSimpleRenderer(container.NewBorder(nil, nil, container.NewCenter(r.logo), container.NewCenter(r.actions),
		container.NewVBox(line1, r.detail, r.status)))
}

func (r *accountRow) showMenu() {
	c := fyne.CurrentApp().Driver().CanvasForObject(r.actions)
	if c == nil {
		return
	}
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(r.actions).AddXY(0, r.actions.Size().Height)
	widget.ShowPopUpMenuAtPosition(r.prefs.menu(r.account), c, pos)
}

func (r *accountRow) set(a accounts.Account) {
	r.account = a
	r.logo.File, r.logo.Resource = a.Logo, nil
	if a.Logo == "" {
		r.logo.Resource = assets.AccountLogo
	}
	r.logo.Refresh()
	r.name.SetText(a.Name)
	if a.Live() {
		r.badge.set("LIVE", theme.ColorNameSuccess, theme.ColorNameForegroundOnSuccess)
	} else {
		r.badge.set("TEST", theme.ColorNameWarning, theme.ColorNameForegroundOnWarning)
	}
	if a.Demo {
		r.demo.set("DEMO", theme.ColorNamePrimary, theme.ColorNameForegroundOnPrimary)
	} else {
		r.demo.Hide()
	}
	r.detail.SetText(a.KeyMasked + " · " + a.StripeAccount + " · " + keptIn(a.KeyStorage))
	r.status.SetText(statusText(a))
	switch {
	case a.Stopped():
		r.status.Importance = widget.DangerImportance
	case a.Status == accounts.StatusOK:
		r.status.Importance = widget.SuccessImportance
	default:
		r.status.Importance = widget.WarningImportance
	}
	// Lay the row out again: a badge's width depends on its text.
	r.Refresh()
}

// keptIn says where an account's key is, for its row.
func keptIn(where accounts.Storage) string {
	if where == accounts.StorageFile {
		return "key in keys.json"
	}
	return "key in keyring"
}

// permissionLabel is a permission in plain words, with Stripe's name where
// the words are Cashbell's ("Products (rak_product_read)").
func permissionLabel(name string) string {
	for _, p := range accounts.Permissions {
		if p.Name == name && name != "" {
			return p.Label + " (" + name + ")"
		}
	}
	return name
}

func permissionLabels(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = permissionLabel(n)
	}
	return strings.Join(out, ", ")
}

// statusText is an account's state in a few words; what to do about it is
// in the row's menu (Refresh from Stripe) and in the notification that told.
func statusText(a accounts.Account) string {
	var s string
	switch a.Status {
	case accounts.StatusOK:
		s = "Working"
		if len(a.Missing) > 0 {
			s = "Working, without " + permissionLabels(a.Missing)
		}
	case accounts.StatusMissingPermissions:
		s = "Missing " + permissionLabels(a.Missing) + ": refresh from Stripe once added"
		if len(a.Missing) > 2 {
			s = fmt.Sprintf("Missing %d permissions: refresh from Stripe once they are added", len(a.Missing))
		}
	case accounts.StatusPermissionLost:
		s = "Stopped: Stripe no longer shows this key events"
		if len(a.Missing) > 0 {
			s = "Stopped: Stripe now asks for " + permissionLabels(a.Missing)
		}
	case accounts.StatusKeyRevoked:
		s = "Stopped: Stripe refused the key; give it a new one with Replace key… in this menu"
	case accounts.StatusOffline:
		s = "Offline, retrying"
	default:
		s = string(a.Status)
	}
	if a.Muted {
		s += " · muted"
	}
	return s
}

// badge is a small coloured label such as LIVE or TEST, in the theme's
// colours so that it reads in both variants.
type badge struct {
	widget.BaseWidget
	bg      *canvas.Rectangle
	text    *canvas.Text
	fill    fyne.ThemeColorName
	textCol fyne.ThemeColorName
}

func newBadge() *badge {
	b := &badge{bg: canvas.NewRectangle(color.Transparent), text: canvas.NewText("", color.White)}
	b.bg.CornerRadius = 4
	b.text.TextSize = 10
	b.text.TextStyle.Bold = true
	b.ExtendBaseWidget(b)
	return b
}

func (b *badge) set(text string, fill, textColour fyne.ThemeColorName) {
	b.text.Text = text
	b.fill, b.textCol = fill, textColour
	b.Show()
	b.Refresh()
}

func (b *badge) Refresh() {
	if b.fill != "" {
		b.bg.FillColor = theme.Color(b.fill)
		b.text.Color = theme.Color(b.textCol)
	}
	b.BaseWidget.Refresh()
}

func (b *badge) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewStack(b.bg, container.New(layout.NewCustomPaddedLayout(1, 1, 6, 6), b.text)))
}
