//go:build !nogui

package main

import "github.com/cashbell/cashbell/app"

// gui is the desktop app. Build with -tags nogui for a smaller binary that
// only runs headless.
var gui = app.Run
