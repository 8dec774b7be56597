//go:build !nogui

package main

import (
	"context"
	"os"

	"github.com/cashbell/cashbell/app"
	"github.com/cashbell/cashbell/internal/autostart"
	"github.com/cashbell/cashbell/internal/cli"
	"github.com/cashbell/cashbell/internal/wiring"
	"github.com/cashbell/cashbell/notifier"
)

// gui runs the tray on what the command line opened; its windows run in
// a process of their own (ui). Build with -tags nogui for a smaller
// binary that only runs headless.
func gui(ctx context.Context, m *wiring.Main, o cli.GUIOptions) error {
	return app.RunTray(ctx, app.TrayOptions{
		Registry: m.Registry, History: notifier.History{Store: m.Store}, Settings: m.Store, Poller: m.Service, Logger: m.Logger,
		UI: o.UI, WantDemo: o.WantDemo, Show: o.Show, Clicks: m.Actions(), Changes: o.Changes,
	})
}

// ui runs the windows of a running Cashbell until the last one closes.
func ui(ctx context.Context, o cli.UIOptions) error {
	c := o.Client
	return app.RunUI(ctx, app.UIOptions{
		Registry: c, History: c, Settings: c, Bell: c, Poller: c, Keys: c, Logger: o.Logger, AddDemo: c.AddDemo,
		Autostart: autostart.New(wiring.ConfigHome(os.Getenv), app.ID),
		Commands:  c.Commands(ctx, o.Seq), Leave: c.Leave, ForceExit: func() { os.Exit(0) },
	})
}
