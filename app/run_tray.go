package app

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/cashbell/cashbell/accounts"
	"github.com/cashbell/cashbell/internal/local"
	"github.com/cashbell/cashbell/notifier/desktop"
)

// uiProcess is the UI process as the tray sees it: Show starts it if
// needed and hands it a command; Send only tells a running one; Close tells
// it to quit and waits a little.
type uiProcess interface {
	Show(cmd local.Command)
	Send(cmd local.Command)
	Close()
}

// TrayOptions are what the tray process is built on.
type TrayOptions struct {
	Registry registry
	History  history
	Settings preferences
	Poller   service
	Logger   *slog.Logger
	// UI shows windows in their own process.
	UI uiProcess
	// WantDemo opens Preferences on the demo account at start (--demo).
	WantDemo bool
	// Show receives when a second launch asks for the window.
	Show <-chan struct{}
	// Clicks receives the notifications the user clicked.
	Clicks <-chan desktop.Action
	// Changes receives after the windows changed accounts or settings.
	Changes <-chan struct{}
}

// trayApp is the tray process: the icon and its menu, the pollers, and the
// UI process when one is wanted. Everything it does runs on one
// goroutine (do), as Fyne's thread does in the windows.
type trayApp struct {
	env  *env
	src  sources
	tray *tray
	ui   uiProcess
	work chan func()
	// noTray: no tray host shows the icon, so windows stand in for it.
	noTray  bool
	started bool
	// hostKnown: the first word on the tray host came; toldNoHost: its
	// absence was said and Preferences opened.
	hostKnown, toldNoHost bool
	hostChanges           int // counts the host's comings and goings, so a late timer knows it is late
	quitOnce              sync.Once
	quitting              chan struct{}
}

// hostGrace is how long a tray host that went away has to come back
// before Preferences opens in its place.
const hostGrace = 2 * time.Second

// RunTray shows the tray icon and runs the pollers until Quit or ctx ends,
// then stops the pollers and the windows; the caller closes the store.
func RunTray(ctx context.Context, o TrayOptions) error {
	t := &trayApp{ui: o.UI, work: make(chan func(), 64), quitting: make(chan struct{})}
	t.env = newEnv(o.Logger, t.do)
	t.src = sources{reg: o.Registry, hist: o.History, prefs: o.Settings}
	var host trayHost
	if sni, err := startSNITray("Cashbell", t.do); err != nil {
		o.Logger.Warn("no tray icon; Preferences stays open instead", "err", err)
	} else {
		host = sni
		if err := watchHost(func(present bool) { t.do(func() { t.hostChanged(present) }) }); err != nil {
			o.Logger.Warn("cannot tell whether a tray shows the icon", "err", err)
		}
	}
	t.tray = newTray(host, t.env, t.src, t)
	t.env.changed = func() { t.do(t.tray.refresh) }

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = o.Poller.Run(ctx)
	}()
	t.start(o.WantDemo)
	return runTray(func() error { return t.loop(ctx, cancel, o, host, done) })
}

// loop is the tray's goroutine: its work, the pollers' news, the windows'
// changes, second launches and clicks, until Quit or ctx ends.
func (t *trayApp) loop(ctx context.Context, cancel context.CancelFunc, o TrayOptions, host trayHost, done <-chan struct{}) error {
	for {
		select {
		case f := <-t.work:
			f()
		case <-o.Poller.Changed():
			t.tray.refresh()
			t.ui.Send(t.command(local.Changed))
		case <-o.Changes:
			t.tray.refresh()
		case <-o.Show:
			t.showPrefs()
		case c := <-o.Clicks:
			t.clicked(c)
		case <-t.quitting:
			cancel()
		case <-ctx.Done():
			t.ui.Close()
			<-done
			if host != nil {
				stopSystray()
			}
			return nil
		}
	}
}

// do runs f on the tray's goroutine.
func (t *trayApp) do(f func()) {
	select {
	case t.work <- f:
	case <-t.quitting:
	}
}

// start builds the menu and, on first launch or without a tray, opens
// Preferences.
func (t *trayApp) start(wantDemo bool) {
	ctx, cancel := t.env.ctx()
	defer cancel()
	list, err := t.src.reg.List(ctx)
	if err != nil {
		t.env.log.Error("listing accounts", "err", err)
	}
	t.tray.refresh()
	t.started = true
	hasDemo := slices.ContainsFunc(list, func(a accounts.Account) bool { return a.Demo })
	switch {
	case wantDemo && hasDemo: // --demo again: the demo is there already
		t.ui.Show(t.command(local.ShowPrefs))
	case wantDemo:
		t.ui.Show(t.command(local.ShowDemo))
	case len(list) == 0:
		t.ui.Show(t.command(local.ShowAdd))
	case t.tray.host == nil || t.noTray:
		t.ui.Show(t.command(local.ShowPrefs)) // no tray to reach the app from
	}
}

func (t *trayApp) command(kind local.CommandKind) local.Command {
	return local.Command{Kind: kind, NoTray: t.noTray || t.tray.host == nil}
}

func (t *trayApp) showPrefs()    { t.ui.Show(t.command(local.ShowPrefs)) }
func (t *trayApp) showActivity() { t.ui.Show(t.command(local.ShowActivity)) }

// showUnseen opens Activity on one kind of bad news, in one account when
// given.
func (t *trayApp) showUnseen(kind, account string) {
	cmd := t.command(local.ShowActivity)
	cmd.Filter, cmd.Account = kind, account
	t.ui.Show(cmd)
}

func (t *trayApp) quit() {
	t.quitOnce.Do(func() { close(t.quitting) })
}

// clicked follows a click on a notification: a burst shows its account's
// events in Activity, anything else opens its page in the Dashboard.
func (t *trayApp) clicked(c desktop.Action) {
	if !c.Burst {
		t.env.openURL(c.URL)
		return
	}
	t.showUnseen("", c.Account)
}

// hostChanged follows whether the desktop shows tray icons. Without a
// host the icon is nowhere, so Preferences opens and says once what to do;
// launching Cashbell again shows it too. A host that goes away while
// Cashbell runs is given hostGrace to come back (a panel restarting), so
// that a flap opens no window.
func (t *trayApp) hostChanged(present bool) {
	first := !t.hostKnown
	t.hostKnown = true
	if t.noTray == !present {
		return
	}
	t.noTray = !present
	t.hostChanges++
	change := t.hostChanges
	if present {
		if t.toldNoHost {
			t.toldNoHost = false
			t.env.log.Info("a tray host appeared: the icon is back")
		}
		t.ui.Send(t.command(local.Changed))
		return
	}
	wait := hostGrace
	if first {
		wait = 0
	}
	time.AfterFunc(wait, func() {
		t.do(func() {
			if t.hostChanges != change || t.toldNoHost {
				return
			}
			t.toldNoHost = true
			t.env.log.Warn("no tray host (StatusNotifierWatcher) on this desktop: the icon cannot be shown; on GNOME install and enable the AppIndicator extension")
			if t.started {
				t.showPrefs()
			}
		})
	})
}
