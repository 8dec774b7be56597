// Package app is Cashbell's desktop UI: the tray menu, the Preferences and
// Activity windows and their dialogs. It is the only package that imports
// Fyne's widgets; it talks to accounts and notifier through small interfaces.
package app

import (
	"context"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	"github.com/cashbell/cashbell/assets"
	"github.com/cashbell/cashbell/internal/cli"
)

// ID is the application id; FyneApp.toml holds the same string.
const ID = "io.cashbell.app"

// Run shows the tray and windows and runs the pollers until Quit or ctx ends.
func Run(ctx context.Context, d *cli.Deps) error {
	a := fyneapp.NewWithID(ID)
	a.SetIcon(assets.Icon)
	w := a.NewWindow("Cashbell Preferences")
	w.SetContent(widget.NewLabel("Cashbell"))
	w.Resize(fyne.NewSize(640, 480))
	w.SetCloseIntercept(w.Hide)
	if desk, ok := a.(desktop.App); ok {
		desk.SetSystemTrayIcon(assets.Tray)
		desk.SetSystemTrayMenu(fyne.NewMenu("Cashbell",
			fyne.NewMenuItem("Preferences…", w.Show),
		))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = d.Service.Run(ctx)
	}()
	go func() {
		<-ctx.Done()
		fyne.Do(a.Quit)
	}()
	w.Show()
	a.Run()
	cancel()
	<-done
	return nil
}
