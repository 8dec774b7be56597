// Package app is Cashbell's desktop UI: the tray menu, the Preferences and
// Activity windows and their dialogs. It is the only package that imports
// Fyne's widgets; it reaches accounts and notifier through small interfaces.
//
// The tray and the windows run in two processes. RunTray, in the process
// that keeps the store and polls, shows the tray icon over D-Bus and never
// starts Fyne's driver, so it never loads the GL driver. RunUI, in a
// process the tray starts when a window is wanted (internal/local), shows
// the windows and ends a moment after the last one closes, taking the GL
// driver's memory with it.
package app

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	// Before Fyne reads the locale: English, quietly, under C.UTF-8.
	_ "cashbell.local/localeenv"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/cashbell/cashbell/accounts"
	"github.com/cashbell/cashbell/assets"
	"github.com/cashbell/cashbell/internal/local"
	"github.com/cashbell/cashbell/internal/opener"
	"github.com/cashbell/cashbell/notifier"
	"github.com/cashbell/cashbell/notifier/poller"
	"github.com/cashbell/cashbell/notifier/store"
)

// ID is the application id; FyneApp.toml holds the same string.
const ID = "io.cashbell.app"

// registry is what the windows need from the account registry.
type registry interface {
	List(ctx context.Context) ([]accounts.Account, error)
	Check(ctx context.Context, key accounts.Key, connected string) (accounts.Report, error)
	Add(ctx context.Context, req accounts.AddRequest) (accounts.AddResult, error)
	ReplaceKey(ctx context.Context, id string, key accounts.Key) (accounts.AddResult, error)
	Remove(ctx context.Context, id string) error
	Rename(ctx context.Context, id, name string) (accounts.Account, error)
	SetLogo(ctx context.Context, id string, data []byte) (accounts.Account, error)
	Recheck(ctx context.Context, id string) (accounts.Account, accounts.Report, error)
	SetMuted(ctx context.Context, id string, muted bool) (accounts.Account, error)
}

// history is what the windows read of what happened.
type history interface {
	Page(ctx context.Context, q store.Query) ([]store.Event, *store.Cursor, error)
	Facts(ctx context.Context, events []store.Event) ([]store.Facts, error)
	SumDays(ctx context.Context, accounts []string, today time.Time, n int) (notifier.Days, error)
	Unseen(ctx context.Context) (notifier.Unseen, error)
	Deadlines(ctx context.Context, now time.Time) ([]notifier.Deadline, error)
	Recurring(ctx context.Context, account string) (notifier.Recurring, error)
	MRRMonth(ctx context.Context, account string, today time.Time, n int) (notifier.MRRMonth, error)
}

// preferences are the user's notification settings.
type preferences interface {
	Settings(ctx context.Context) (store.Settings, error)
	SaveSettings(ctx context.Context, s store.Settings) error
}

// keyNotes says where keys are kept, for the Accounts tab and the add dialog.
type keyNotes interface {
	Where() accounts.Storage
	KeyNote(where accounts.Storage) string
	Summary(list []accounts.Account) string
}

// accountLister lists the accounts, for the views that only show them.
type accountLister interface {
	List(ctx context.Context) ([]accounts.Account, error)
}

// pollControl is what the windows need from the polling service: to pick
// up what changed.
type pollControl interface {
	Reload()
}

// service is the poller as Run drives it: it runs until its context ends and
// says when accounts or events changed.
type service interface {
	pollControl
	Run(ctx context.Context) error
	Changed() <-chan struct{}
}

// bell says how the bell rings, and rings it once (the tray's desktop).
type bell interface {
	Bell(ctx context.Context) string
	Ring(ctx context.Context) error
}

// startAtLogin turns starting Cashbell at login on and off.
type startAtLogin interface {
	Enabled() bool
	Set(on bool) error
}

// UIOptions are what the UI process is built on, all given
// before it starts.
type UIOptions struct {
	Registry  registry
	History   history
	Settings  preferences
	Poller    pollControl
	Keys      keyNotes
	Autostart startAtLogin
	Bell      bell
	Logger    *slog.Logger
	// AddDemo starts the demo and adds its account (or returns it).
	AddDemo func(ctx context.Context) (accounts.AddResult, error)
	// Commands are the tray's: which window to show, when to refresh, quit.
	Commands <-chan local.Command
	// Leave asks the tray whether the process may end, having done every
	// command up to the one numbered; no means more came meanwhile.
	Leave func(ctx context.Context, done uint64) bool
	// ForceExit ends the process when Fyne cannot end its own loop.
	ForceExit func()
}

// idleExit is how long the UI process stays after its last window
// closed, in case another is wanted at once.
const idleExit = 2 * time.Second

var (
	_ registry    = (*accounts.Registry)(nil)
	_ registry    = (*local.Client)(nil)
	_ trayHost    = (*sniTray)(nil)
	_ history     = notifier.History{}
	_ history     = (*local.Client)(nil)
	_ preferences = (*store.Store)(nil)
	_ preferences = (*local.Client)(nil)
	_ service     = (*poller.Service)(nil)
	_ keyNotes    = (*accounts.Vault)(nil)
	_ keyNotes    = (*local.Client)(nil)
	_ bell        = (*local.Client)(nil)
)

// sources are where the windows read and change things. Each window is
// given only the ones it uses.
type sources struct {
	reg       registry
	hist      history
	prefs     preferences
	poll      pollControl
	addDemo   func(ctx context.Context) (accounts.AddResult, error)
	keys      keyNotes // says where keys are kept
	autostart startAtLogin
	bell      bell
}

// env is how every window draws and reaches its thread: formatting, the
// clock, the log, opening a page, and the way back to the UI's thread.
type env struct {
	money   *notifier.Money
	log     *slog.Logger
	openURL func(string)
	now     func() time.Time
	// changed is called after the UI changed accounts or settings, so that
	// every view refreshes.
	changed func()
	// screen is the usable size of the screen a window is on, in Fyne's
	// units; nil or false where it cannot be known.
	screen func(w fyne.Window) (fyne.Size, bool)
	// do runs a change that comes from another goroutine on the UI's
	// thread: fyne.Do in the windows, the tray's own goroutine in the tray.
	// It is the one way back to the widgets and the menu.
	do func(func())
	// inPlace makes fetch run its work on the calling goroutine.
	inPlace bool
}

// fit sizes a shown window to want, or to what its screen has room for:
// at 150 % a 768-pixel screen has 512 units of height, less than a window
// may ask for.
func (e *env) fit(w fyne.Window, want fyne.Size) {
	if e.screen == nil {
		return
	}
	if area, ok := e.screen(w); ok {
		w.Resize(fitSize(want, area))
	}
}

// fitSize is want, shrunk to 90 % of the screen where it would not fit.
func fitSize(want, screen fyne.Size) fyne.Size {
	return fyne.NewSize(min(want.Width, screen.Width*0.9), min(want.Height, screen.Height*0.9))
}

// fetch runs work away from the UI's thread, within a bounded context
// (in the UI process its reads are calls to the tray), then what it
// returns on the UI's thread; where inPlace is set (the app's tests),
// both at once.
func (e *env) fetch(work func(ctx context.Context) (apply func())) {
	run := func() func() {
		ctx, cancel := e.ctx()
		defer cancel()
		return work(ctx)
	}
	if e.inPlace {
		run()()
		return
	}
	go func() { e.do(run()) }()
}

// ctx gives UI actions a bounded context: every network call has a timeout.
func (e *env) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 45*time.Second)
}

// ui holds the UI process's app and its windows.
type ui struct {
	app      fyne.App
	env      *env
	src      sources
	prefs    *prefsWindow
	activity *activityWindow
	// noTray: the desktop shows no tray icons; Preferences says so.
	noTray bool

	refreshQueued atomic.Bool
	leave         func(ctx context.Context, done uint64) bool
	done          uint64 // the number of the last command done
	quitOnce      sync.Once
	quitting      chan struct{} // closed when Quit was chosen
	exit          *time.Timer   // ends the process once no window is shown
}

// quitGrace is how long Fyne's loop may take to end after Quit or a signal.
//
// Fyne 2.7.1 can hang for good as it ends: its loop drains the function
// queue, but a function still on its way through the queue's buffer (the
// lifecycle's stopped hook, which waits for the loop) is never run, so
// Run waits on it for ever. A logout or `systemctl --user stop` must not
// wait on Cashbell, so past this grace it stops without Fyne.
const quitGrace = 3 * time.Second

// watchQuit calls giveUp when ran is not closed within grace of quitting.
func watchQuit(quitting, ran <-chan struct{}, grace time.Duration, giveUp func()) {
	<-quitting
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-ran:
	case <-t.C:
		giveUp()
	}
}

// RunUI shows the windows the tray asks for, until the last one has
// been closed for a moment, the tray says quit, or ctx ends.
func RunUI(ctx context.Context, o UIOptions) error {
	a := fyneapp.NewWithID(ID)
	a.SetIcon(assets.Icon)
	a.Settings().SetTheme(newTheme())
	e := newEnv(o.Logger, func(f func()) { fyne.Do(f) })
	e.screen = screenSize
	u := newUI(a, e, sources{reg: o.Registry, hist: o.History, prefs: o.Settings, poll: o.Poller, addDemo: o.AddDemo, keys: o.Keys, autostart: o.Autostart, bell: o.Bell})
	// A page that did not open (no browser that answers) is said over the
	// window that asked, with its link to copy.
	e.openURL = func(raw string) {
		go func() {
			if err := opener.Open(context.Background(), raw); err != nil {
				o.Logger.Warn("a page did not open", "err", err)
				e.do(func() { u.openFailed(raw) })
			}
		}()
	}
	u.leave = o.Leave

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ready := make(chan struct{})
	a.Lifecycle().SetOnStarted(func() {
		o.Logger.Debug("the window toolkit started")
		close(ready)
	})
	go func() {
		select {
		case <-ready:
		case <-ctx.Done():
		}
		for {
			select {
			case <-ctx.Done():
				e.do(u.quit)
				return
			case cmd, ok := <-o.Commands:
				if !ok {
					e.do(u.quit)
					return
				}
				o.Logger.Debug("a command from the tray", "kind", cmd.Kind)
				e.do(func() { u.command(cmd) })
			}
		}
	}()
	ran := make(chan struct{})
	go watchQuit(u.quitting, ran, quitGrace, func() {
		o.Logger.Warn("the window toolkit did not stop in time; the windows stop without it")
		o.ForceExit()
	})
	a.Run()
	close(ran)
	return nil
}

// newEnv is what the windows and the tray share, with do as the way back
// to their thread.
func newEnv(log *slog.Logger, do func(func())) *env {
	return &env{money: notifier.NewMoney(""), log: log, now: time.Now, do: do,
		openURL: func(raw string) {
			go func() {
				if err := opener.Open(context.Background(), raw); err != nil {
					log.Warn("a page did not open", "err", err)
				}
			}()
		}}
}

// newUI wires the windows.
func newUI(a fyne.App, e *env, src sources) *ui {
	u := &ui{app: a, env: e, src: src, quitting: make(chan struct{})}
	e.changed = u.onChanged
	return u
}

// command does what the tray asks.
func (u *ui) command(cmd local.Command) {
	u.done = max(u.done, cmd.Seq)
	if cmd.NoTray != u.noTray {
		u.noTray = cmd.NoTray
		if u.prefs != nil || u.noTray {
			u.preferences().setNoTray(u.noTray)
		}
	}
	switch cmd.Kind {
	case local.ShowPrefs:
		u.showPrefs()
	case local.ShowAdd:
		u.showPrefs()
		u.preferences().onAdd()
	case local.ShowDemo:
		u.showPrefs()
		u.preferences().onTryDemo()
	case local.ShowActivity:
		w := u.activityWindow()
		// Before show, which marks what it shows as seen.
		w.showKind(cmd.Filter)
		if cmd.Account != "" {
			w.showAccount(cmd.Account)
		}
		w.show()
	case local.Changed:
		u.refresh()
	case local.Quit:
		u.quit()
	}
}

// onChanged may be called from any goroutine; refreshes are coalesced and
// run on Fyne's thread.
func (u *ui) onChanged() {
	if u.refreshQueued.Swap(true) {
		return
	}
	go func() {
		time.Sleep(150 * time.Millisecond)
		u.refreshQueued.Store(false)
		u.env.do(u.refresh)
	}()
}

// refresh updates the windows that are open; hidden windows catch up when
// they are shown.
func (u *ui) refresh() {
	if u.prefs != nil && u.prefs.shown {
		u.prefs.refresh()
	}
	if u.activity != nil && u.activity.shown {
		u.activity.refresh()
	}
}

// preferences builds the Preferences window on first use: an app that lives
// in the tray should not pay for windows (fonts, textures) nobody opened.
func (u *ui) preferences() *prefsWindow {
	if u.prefs == nil {
		u.prefs = newPrefsWindow(u.app, u.env, u.src)
		hideOnClose(u.prefs.win, func() { u.prefs.shown = false; u.windowHidden() })
	}
	return u.prefs
}

// openFailed says that a page did not open, over a shown window, and
// offers its link to copy.
func (u *ui) openFailed(link string) {
	var win fyne.Window
	switch {
	case u.activity != nil && u.activity.shown:
		win = u.activity.win
	case u.prefs != nil && u.prefs.shown:
		win = u.prefs.win
	default:
		return
	}
	entry := widget.NewEntry()
	entry.SetText(link)
	copyBtn := widget.NewButtonWithIcon("Copy link", theme.ContentCopyIcon(), func() { u.app.Clipboard().SetContent(link) })
	text := widget.NewLabel("No browser opened the page. Copy its link into one:")
	text.Wrapping = fyne.TextWrapWord
	d := dialog.NewCustom("The page did not open", "Close", container.NewVBox(text, container.NewBorder(nil, nil, nil, copyBtn, entry)), win)
	d.Resize(fyne.NewSize(min(560, win.Canvas().Size().Width-32), d.MinSize().Height))
	d.Show()
}

// activityWindow builds the Activity window on first use.
func (u *ui) activityWindow() *activityWindow {
	if u.activity == nil {
		u.activity = newActivityWindow(u.app, u.env, u.src.hist, u.src.prefs, u.src.reg)
		u.activity.hide = hideOnClose(u.activity.win, func() { u.activity.shown = false; u.windowHidden() })
	}
	return u.activity
}

// hideOnClose makes the close button and Ctrl+W hide w: Cashbell lives in
// the tray, and only Quit quits. hidden runs first.
func hideOnClose(w fyne.Window, hidden func()) (hide func()) {
	hide = func() { hidden(); w.Hide() }
	w.SetCloseIntercept(hide)
	w.Canvas().AddShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyW, Modifier: fyne.KeyModifierShortcutDefault},
		func(fyne.Shortcut) { hide() })
	return hide
}

// windowHidden ends the UI process a moment after its last window
// was hidden: the GL driver and the windows' caches go with it, and the
// tray process, which never loaded them, stays small.
func (u *ui) windowHidden() {
	if u.windowShown() {
		return
	}
	if u.exit != nil {
		u.exit.Stop()
	}
	u.exit = time.AfterFunc(idleExit, func() { u.env.do(u.leaveIfIdle) })
}

// leaveIfIdle ends the process when no window is shown and the tray agrees
// that every command was done; a command that came meanwhile is done
// first, and the process tries again after it.
func (u *ui) leaveIfIdle() {
	if u.windowShown() {
		return
	}
	if u.leave == nil {
		u.quit()
		return
	}
	done := u.done
	go func() { // a call to the tray, off Fyne's thread
		ctx, cancel := u.env.ctx()
		defer cancel()
		if u.leave(ctx, done) {
			u.env.do(u.quit)
		} else {
			u.env.do(u.windowHidden)
		}
	}()
}

// windowShown reports whether a window is on screen; it runs on Fyne's thread.
func (u *ui) windowShown() bool {
	return u.prefs != nil && u.prefs.shown || u.activity != nil && u.activity.shown
}

func (u *ui) showPrefs() { u.preferences().show() }

func (u *ui) showActivity() { u.activityWindow().show() }

// quit hides the windows first and quits a moment later: Fyne 2.7.1 can crash
// on a pointer event that reaches a window while it is being destroyed.
//
// A signal reaches Fyne's own handler too, which may end the loop first;
// anything queued after that runs on the calling goroutine against a
// toolkit that is gone, so those steps are allowed to fail.
func (u *ui) quit() {
	u.quitOnce.Do(func() {
		close(u.quitting)
		afterToolkit(func() {
			for _, w := range u.app.Driver().AllWindows() {
				w.Hide()
			}
		})
		go func() {
			time.Sleep(100 * time.Millisecond)
			u.env.do(func() { afterToolkit(u.app.Quit) })
		}()
	})
}

// afterToolkit runs a step of quitting that may find GLFW already shut down
// (it panics then); quitting goes on either way.
func afterToolkit(f func()) {
	defer func() { _ = recover() }()
	f()
}
