// Package assets embeds Cashbell's icons. The Fyne resources are in
// resources.go, which a -tags nogui build leaves out.
package assets

import (
	_ "embed"
)

//go:embed icon.png
var iconPNG []byte

//go:embed account.png
var accountPNG []byte

//go:embed tray.png
var trayPNG []byte

//go:embed tray-alert.png
var trayAlertPNG []byte

//go:embed tray-paused.png
var trayPausedPNG []byte

//go:embed alert.png
var alertPNG []byte

//go:embed bell.wav
var bellWAV []byte

// BellWAV is the sound of a sale (scripts/bell makes it; CC0-1.0).
func BellWAV() []byte { return bellWAV }

// AlertPNG is the icon of bad news in notifications: a red bell with "!"
// (256×256; scripts/icons.sh draws it).
func AlertPNG() []byte { return alertPNG }

// AccountLogoPNG returns the bytes of AccountLogo, for code that must not
// import Fyne (the notifier writes it to a file for the notification service).
func AccountLogoPNG() []byte { return accountPNG }
