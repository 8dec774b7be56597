// Command cashbell is a tray app that rings when your Stripe accounts make
// money. main only wires the pieces together: internal/cli reads the command
// line, internal/wiring opens the store and builds the services, and app
// (gui.go) is the desktop app.
package main

import (
	"context"
	_ "embed"
	"os"
	"os/signal"
	"syscall"

	"github.com/BurntSushi/toml"

	"github.com/cashbell/cashbell/assets"
	"github.com/cashbell/cashbell/internal/cli"
)

//go:embed FyneApp.toml
var fyneApp string

// version is FyneApp.toml's Details.Version, the one place it is written.
func version() string {
	var meta struct{ Details struct{ Version string } }
	if _, err := toml.Decode(fyneApp, &meta); err != nil {
		return ""
	}
	return meta.Details.Version
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, cli.Env{
		Args:    os.Args[1:],
		Stdin:   os.Stdin,
		Stdout:  os.Stdout,
		Stderr:  os.Stderr,
		Getenv:  os.Getenv,
		GUI:     gui,
		UI:      ui,
		Logo:    assets.AccountLogoPNG(),
		Version: version(),
	})
	stop()
	os.Exit(code)
}
