// Package app is Cashbell's desktop UI: the tray menu, the Preferences and
// Activity windows and their dialogs. It is the only package that imports
// Fyne's widgets; it reaches accounts and notifier through small interfaces.
package app

import (
	"context"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	// Before Fyne reads the locale: English, quietly, under C.UTF-8.
	_ "cashbell.local/localeenv"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/driver/desktop"

	"github.com/cashbell/cashbell/accounts"
	"github.com/cashbell/cashbell/assets"
	"github.com/cashbell/cashbell/internal/opener"
	"github.com/cashbell/cashbell/notifier"
)

// ID is the application id; FyneApp.toml holds the same string.
const ID = "io.cashbell.app"

// registry is what the windows need from the account registry.
type registry interface {
	List(ctx context.Context) ([]accounts.Account, error)
	Check(ctx context.Context, key accounts.Key, connected string) (accounts.Report, error)
	Add(ctx context.Context, req accounts.AddRequest) (accounts.AddResult, error)
	Remove(ctx context.Context, id string) error
	Rename(ctx context.Context, id, name string) (accounts.Account, error)
	SetLogo(ctx context.Context, id string, data []byte) (accounts.Account, error)
	Recheck(ctx context.Context, id string) (accounts.Account, accounts.Report, error)
	SetMuted(ctx context.Context, id string, muted bool) (accounts.Account, error)
}

// history is what the windows need from the event store.
type history interface {
	Page(ctx context.Context, q notifier.Query) ([]notifier.Event, *notifier.Cursor, error)
	Since(ctx context.Context, t time.Time) ([]notifier.Event, error)
	Details(ctx context.Context, events []notifier.Event) ([]notifier.Details, error)
	SumDays(ctx context.Context, accounts []string, today time.Time, n int) (notifier.Days, error)
	Settings(ctx context.Context) (notifier.Settings, error)
	SaveSettings(ctx context.Context, s notifier.Settings) error
}

// keyNotes says where keys are kept, for the Accounts tab and the add dialog.
type keyNotes interface {
	Where() accounts.Storage
	KeyNote(where accounts.Storage) string
	Summary(list []accounts.Account) string
}

// poller is what the windows need from the polling service.
type poller interface {
	Reload()
	PollNow(accountID string)
}

// service is the poller as Run drives it: it runs until its context ends and
// says when accounts or events changed.
type service interface {
	poller
	Run(ctx context.Context) error
	Changed() <-chan struct{}
}

// startAtLogin turns starting Cashbell at login on and off.
type startAtLogin interface {
	Enabled() bool
	Set(on bool) error
}

// Options are the services and callbacks the app is built on, all given
// before it starts.
type Options struct {
	Registry  registry
	History   history
	Poller    service
	Keys      keyNotes
	Autostart startAtLogin
	Logger    *slog.Logger
	// AddDemo starts the demo and adds its account (or returns it).
	AddDemo func(ctx context.Context) (accounts.AddResult, error)
	// WantDemo opens Preferences on the demo account at start (--demo).
	WantDemo bool
	// Show receives when a second launch asks for the window.
	Show <-chan struct{}
	// Clicks receives the notifications the user clicked.
	Clicks <-chan notifier.Action
	// ForceExit ends the process when Fyne cannot end its own loop.
	ForceExit func()
}

var (
	_ registry = (*accounts.Registry)(nil)
	_ trayHost = (*sniTray)(nil)
	_ history  = (*notifier.Store)(nil)
	_ service  = (*notifier.Service)(nil)
	_ keyNotes = (*accounts.Vault)(nil)
)

// env is what every window shares.
type env struct {
	reg       registry
	hist      history
	poll      poller
	addDemo   func(ctx context.Context) (accounts.AddResult, error)
	money     *notifier.Money
	log       *slog.Logger
	openURL   func(string)
	keys      keyNotes // says where keys are kept
	now       func() time.Time
	autostart startAtLogin
	// changed is called after the UI changed accounts or settings, so that
	// every view refreshes.
	changed func()
	// screen is the usable size of the screen a window is on, in Fyne's
	// units; nil or false where it cannot be known.
	screen func(w fyne.Window) (fyne.Size, bool)
	// do runs a UI change that comes from another goroutine on Fyne's
	// thread: fyne.Do, waking the idle loop, in the app. It is the one way
	// back to the widgets.
	do func(func())
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

// ctx gives UI actions a bounded context: every network call has a timeout.
func (e *env) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 45*time.Second)
}

// ui holds the app and its windows.
type ui struct {
	app      fyne.App
	env      *env
	tray     *tray
	prefs    *prefsWindow
	activity *activityWindow

	// noTray: the desktop runs no tray host, so the icon shows nowhere.
	noTray  bool
	started bool

	refreshQueued atomic.Bool
	quitOnce      sync.Once
	quitting      chan struct{} // closed when Quit was chosen
	stopIdle      func()        // lets Fyne's loop run freely again, for Quit
	trim          *time.Timer
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

// Run shows the tray and windows and runs the pollers until Quit or ctx ends,
// then stops the pollers; the caller closes the store.
func Run(ctx context.Context, o Options) error {
	a := fyneapp.NewWithID(ID)
	a.SetIcon(assets.Icon)
	a.Settings().SetTheme(newTheme())
	var u *ui
	idle := newIdleLoop(fyne.Do, func() bool { return !u.windowShown() }, 2*time.Second)
	e := &env{
		reg: o.Registry, hist: o.History, poll: o.Poller, addDemo: o.AddDemo, money: notifier.NewMoney(""), log: o.Logger,
		keys: o.Keys, now: time.Now, autostart: o.Autostart, do: idle.do, screen: screenSize,
		openURL: func(raw string) {
			go func() {
				if err := opener.Open(context.Background(), raw); err != nil {
					o.Logger.Warn("a page did not open", "err", err)
				}
			}()
		},
	}
	var host trayHost
	if _, ok := a.(desktop.App); ok { // a desktop driver, not a phone or the test driver
		if sni, err := startSNITray("Cashbell", e.do); err != nil {
			o.Logger.Warn("no tray icon; Preferences stays open instead", "err", err)
		} else {
			host = sni
		}
	}
	u = newUI(a, e, host)
	u.stopIdle = idle.stop
	if host != nil {
		if err := watchHost(func(present bool) { e.do(func() { u.trayHost(present) }) }); err != nil {
			o.Logger.Warn("cannot tell whether a tray shows the icon", "err", err)
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = o.Poller.Run(ctx)
	}()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-o.Poller.Changed():
				u.onChanged()
			case <-o.Show:
				u.env.do(u.showPrefs)
			case c := <-o.Clicks:
				u.env.do(func() { u.clicked(c) })
			}
		}
	}()
	quitting := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			u.env.do(u.quit)
		case <-u.quitting:
		}
		close(quitting)
	}()
	ran := make(chan struct{})
	go watchQuit(quitting, ran, quitGrace, func() {
		o.Logger.Warn("the window toolkit did not stop in time; Cashbell stops without it")
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			o.Logger.Warn("the pollers did not stop in time")
		}
		o.ForceExit()
	})
	go idle.run()
	a.Lifecycle().SetOnStarted(func() {
		u.start(o.WantDemo)
	})
	a.Run()
	close(ran)
	idle.stop()
	cancel()
	<-done
	return nil
}

// newUI wires the windows and the tray; host is nil when there is no tray.
func newUI(a fyne.App, e *env, host trayHost) *ui {
	u := &ui{app: a, env: e, stopIdle: func() {}, quitting: make(chan struct{})}
	e.changed = u.onChanged
	u.tray = newTray(host, e, u)
	return u
}

// start runs once the app is up: it builds the tray and, on first launch,
// opens Preferences at Add.
func (u *ui) start(wantDemo bool) {
	ctx, cancel := u.env.ctx()
	defer cancel()
	list, err := u.env.reg.List(ctx)
	if err != nil {
		u.env.log.Error("listing accounts", "err", err)
	}
	u.tray.refresh()
	u.started = true
	if u.noTray {
		u.preferences().setNoTray(true)
	}
	hasDemo := false
	for _, a := range list {
		hasDemo = hasDemo || a.Demo
	}
	switch {
	case wantDemo && hasDemo: // --demo again: the demo is there already
		u.preferences().show()
	case wantDemo:
		u.preferences().show()
		u.preferences().onTryDemo()
	case len(list) == 0:
		u.preferences().show()
		u.preferences().onAdd()
	case u.tray.host == nil || u.noTray:
		u.preferences().show() // no tray to reach the app from
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

// refresh updates the tray and the windows that are open; hidden windows
// catch up when they are shown.
func (u *ui) refresh() {
	u.tray.refresh()
	if u.prefs != nil && u.prefs.shown {
		u.prefs.refresh()
	}
	if u.activity != nil && u.activity.shown {
		u.activity.refresh()
	}
}

// trayHost follows whether the desktop shows tray icons. Without a host
// the icon is nowhere, so Preferences opens and says once what to do;
// launching Cashbell again shows it too.
func (u *ui) trayHost(present bool) {
	if u.noTray == !present {
		return
	}
	u.noTray = !present
	if present {
		u.env.log.Info("a tray host appeared: the icon is back")
		if u.prefs != nil {
			u.prefs.setNoTray(false)
		}
		return
	}
	u.env.log.Warn("no tray host (StatusNotifierWatcher) on this desktop: the icon cannot be shown; on GNOME install and enable the AppIndicator extension")
	if u.started {
		u.preferences().setNoTray(true)
		u.preferences().show()
	}
}

// preferences builds the Preferences window on first use: an app that lives
// in the tray should not pay for windows (fonts, textures) nobody opened.
func (u *ui) preferences() *prefsWindow {
	if u.prefs == nil {
		u.prefs = newPrefsWindow(u.app, u.env)
		hideOnClose(u.prefs.win, func() { u.prefs.shown = false; u.windowHidden() })
	}
	return u.prefs
}

// activityWindow builds the Activity window on first use.
func (u *ui) activityWindow() *activityWindow {
	if u.activity == nil {
		u.activity = newActivityWindow(u.app, u.env)
		hideOnClose(u.activity.win, func() { u.activity.shown = false; u.windowHidden() })
	}
	return u.activity
}

// hideOnClose makes the close button and Ctrl+W hide w: Cashbell lives in
// the tray, and only Quit quits. hidden runs first.
func hideOnClose(w fyne.Window, hidden func()) {
	hide := func() { hidden(); w.Hide() }
	w.SetCloseIntercept(hide)
	w.Canvas().AddShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyW, Modifier: fyne.KeyModifierShortcutDefault},
		func(fyne.Shortcut) { hide() })
}

// windowHidden gives memory back to the system once the last window is
// hidden: Fyne lets go of renderers and images it no longer draws a minute or
// so later, and the Go runtime would keep the freed pages for a while.
func (u *ui) windowHidden() {
	if u.windowShown() {
		return
	}
	if u.trim != nil {
		u.trim.Stop()
	}
	u.trim = time.AfterFunc(100*time.Second, debug.FreeOSMemory)
}

// windowShown reports whether a window is on screen; it runs on Fyne's thread.
func (u *ui) windowShown() bool {
	return u.prefs != nil && u.prefs.shown || u.activity != nil && u.activity.shown
}

func (u *ui) showPrefs() { u.preferences().show() }

// clicked follows a click on a notification: a burst shows its account's
// events in Activity, anything else opens its page in the Dashboard.
func (u *ui) clicked(c notifier.Action) {
	if !c.Burst {
		u.env.openURL(c.URL)
		return
	}
	w := u.activityWindow()
	w.show()
	w.showAccount(c.Account)
}
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
		u.stopIdle()
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
