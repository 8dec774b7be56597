//go:build !(linux || freebsd || netbsd || openbsd || windows)

package app

import "fyne.io/systray"

// startSystray adds the item to macOS's menu bar. Untested: AppKit wants
// its loop on the main thread, which the tray process gives to its own loop.
func startSystray() error {
	start, _ := systray.RunWithExternalLoop(nil, nil)
	start()
	return nil
}

// stopSystray: the item goes with the process.
func stopSystray() {}

// osIcon is the icon as systray takes it here: PNG.
func osIcon(png []byte) []byte { return png }

// watchHost says the tray host is present: the menu bar always is.
func watchHost(changed func(present bool)) error {
	changed(true)
	return nil
}

// menuLabel is a label as macOS's menus read it: as it is.
func menuLabel(label string) string { return label }
