//go:build nogui

package main

import (
	"context"

	"github.com/cashbell/cashbell/internal/cli"
	"github.com/cashbell/cashbell/internal/wiring"
)

// gui is absent from a -tags nogui build: cashbell run --headless and the
// account commands work, the tray app does not.
var gui func(context.Context, *wiring.Main, cli.GUIOptions) error

// ui is absent too.
var ui func(context.Context, cli.UIOptions) error
