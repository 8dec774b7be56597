//go:build !nogui

package main

import (
	"context"
	"os"

	"github.com/cashbell/cashbell/app"
	"github.com/cashbell/cashbell/internal/autostart"
	"github.com/cashbell/cashbell/internal/cli"
	"github.com/cashbell/cashbell/internal/wiring"
)

// gui runs the desktop app on what the command line opened. Build with
// -tags nogui for a smaller binary that only runs headless.
func gui(ctx context.Context, m *wiring.Main, o cli.GUIOptions) error {
	return app.Run(ctx, app.Options{
		Registry: m.Registry, History: m.Store, Poller: m.Service, Keys: m.Vault, Logger: m.Logger,
		Autostart: autostart.New(wiring.ConfigHome(os.Getenv), app.ID),
		AddDemo:   m.AddDemo, WantDemo: o.WantDemo, Show: o.Show, ForceExit: m.ForceExit, Clicks: m.Actions(),
	})
}
