//go:build windows

package app

import (
	"bytes"
	"errors"
	"image/png"
	"runtime"
	"strings"
	"time"

	"fyne.io/systray"
	ico "github.com/sergeymakinen/go-ico"
)

// systrayDone is closed when systray's message loop has ended.
var systrayDone = make(chan struct{})

// startSystray adds the icon to the notification area. The tray process
// runs no other window loop, and a Win32 window hears its messages only on
// the thread that made it, so systray makes its window and pumps its
// messages on a thread of its own.
func startSystray() error {
	ready := make(chan struct{})
	go func() {
		defer close(systrayDone)
		runtime.LockOSThread()
		systray.Run(func() { close(ready) }, nil)
	}()
	select {
	case <-ready:
		return nil
	case <-time.After(5 * time.Second):
		return errors.New("the notification area did not take the icon")
	}
}

// stopSystray removes the icon, which Windows would otherwise leave behind
// until the pointer passes over it, and waits a little for the loop to end.
func stopSystray() {
	systray.Quit()
	select {
	case <-systrayDone:
	case <-time.After(2 * time.Second):
	}
}

// runTray runs the tray's loop on the calling goroutine: systray pumps its
// window's messages on a thread of its own (startSystray).
func runTray(loop func() error) error { return loop() }

// osIcon is the icon as the notification area takes it: an ICO file.
func osIcon(b []byte) []byte {
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return b
	}
	var out bytes.Buffer
	if err := ico.Encode(&out, img); err != nil {
		return b
	}
	return out.Bytes()
}

// watchHost says the tray host is present: Windows always has one.
func watchHost(changed func(present bool)) error {
	changed(true)
	return nil
}

// menuLabel is a label as a Win32 menu reads it: an ampersand marks an
// access key, and a doubled one shows as itself.
func menuLabel(label string) string { return strings.ReplaceAll(label, "&", "&&") }
