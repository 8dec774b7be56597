//go:build darwin

package app

import "fyne.io/systray"

// On macOS the menu bar item lives in AppKit's run loop, which must have
// the main thread (systray's and Fyne's documented rule). RunTray is called
// on the main goroutine, which Fyne's GLFW driver locks to the main thread
// in its init, so the tray's own loop runs beside systray.Run instead of on
// it. Written and vetted (make vet-cross), not built or run: these machines
// have no Apple SDK. A packaged app sets LSUIElement in its Info.plist so
// that the tray app has no Dock icon (systray's README).

// startSystray has nothing to start: systray.Run, in runTray, registers the
// item; what the menu gets before is queued by systray for it.
func startSystray() error { return nil }

// stopSystray ends AppKit's run loop, and with it runTray.
func stopSystray() { systray.Quit() }

// runTray runs loop while systray.Run holds the main thread, and ends that
// run loop once loop returns.
func runTray(loop func() error) error {
	errc := make(chan error, 1)
	go func() {
		errc <- loop()
		systray.Quit()
	}()
	systray.Run(nil, nil)
	return <-errc
}

// osIcon is the icon as systray takes it here: PNG.
func osIcon(png []byte) []byte { return png }

// watchHost says the tray host is present: the menu bar always is.
func watchHost(changed func(present bool)) error {
	changed(true)
	return nil
}

// menuLabel is a label as macOS's menus read it: as it is.
func menuLabel(label string) string { return label }
