//go:build linux || freebsd || netbsd || openbsd

package app

import (
	"fmt"
	"strings"

	"fyne.io/systray"
	"github.com/godbus/dbus/v5"
)

// startSystray registers the StatusNotifierItem on the session bus. systray
// only logs a missing bus and then crashes when it ends, so the bus is
// checked first.
func startSystray() error {
	if _, err := dbus.SessionBus(); err != nil {
		return fmt.Errorf("no tray without a D-Bus session bus: %w", err)
	}
	start, _ := systray.RunWithExternalLoop(nil, nil)
	start()
	return nil
}

// stopSystray: the item leaves the bus with the process.
func stopSystray() {}

// runTray runs the tray's loop on the calling goroutine: the
// StatusNotifierItem lives on the session bus, not in a window loop.
func runTray(loop func() error) error { return loop() }

// osIcon is the icon as systray takes it here: PNG.
func osIcon(png []byte) []byte { return png }

// menuLabel is a label as dbusmenu reads it: an underscore marks an access
// key there, and a doubled one shows as itself.
func menuLabel(label string) string { return strings.ReplaceAll(label, "_", "__") }

// watcherName is the bus name of the service that tray hosts run and
// items register with (the StatusNotifierItem specification).
const watcherName = "org.kde.StatusNotifierWatcher"

// watchHost says whether a tray host can show the icon: now, and each time
// a StatusNotifierWatcher appears on the session bus or goes away (GNOME
// runs none without the AppIndicator extension). systray registers the
// item again by itself when one appears.
func watchHost(changed func(present bool)) error {
	conn, err := dbus.SessionBus()
	if err != nil {
		return err
	}
	if err := conn.AddMatchSignal(dbus.WithMatchObjectPath("/org/freedesktop/DBus"), dbus.WithMatchInterface("org.freedesktop.DBus"),
		dbus.WithMatchSender("org.freedesktop.DBus"), dbus.WithMatchMember("NameOwnerChanged"), dbus.WithMatchArg(0, watcherName)); err != nil {
		return err
	}
	signals := make(chan *dbus.Signal, 4)
	conn.Signal(signals)
	var present bool
	if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, watcherName).Store(&present); err != nil {
		return err
	}
	changed(present)
	go func() {
		for sig := range signals {
			if sig == nil || sig.Name != "org.freedesktop.DBus.NameOwnerChanged" || len(sig.Body) < 3 {
				continue
			}
			if name, _ := sig.Body[0].(string); name != watcherName {
				continue
			}
			owner, _ := sig.Body[2].(string)
			changed(owner != "")
		}
	}()
	return nil
}
