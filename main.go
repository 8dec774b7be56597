// Command cashbell is a tray app that rings when your Stripe accounts make
// money. main only wires the pieces together; see internal/cli for the
// commands and app for the window and tray.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/cashbell/cashbell/assets"
	"github.com/cashbell/cashbell/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, cli.Env{
		Args:   os.Args[1:],
		Stdin:  os.Stdin,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		Getenv: os.Getenv,
		GUI:    gui,
		Logo:   assets.AccountLogoPNG(),
	})
	stop()
	os.Exit(code)
}
