//go:build !nogui

package assets

import "fyne.io/fyne/v2"

// Icon is the application icon (512×512 PNG).
var Icon = fyne.NewStaticResource("icon.png", iconPNG)

// AccountLogo is the logo shown for an account without one of its own, and
// the icon of its notifications (128×128 PNG).
var AccountLogo = fyne.NewStaticResource("account.png", accountPNG)

// Tray is the tray icon: a green bell that reads on light and dark panels. It
// is a PNG because the StatusNotifierItem protocol carries pixels, not SVG.
var Tray = fyne.NewStaticResource("tray.png", trayPNG)

// TrayAttention is the tray icon when something needs the user: an unseen
// failed payment or dispute, or a key that stopped working.
var TrayAttention = fyne.NewStaticResource("tray-alert.png", trayAlertPNG)

// TrayPaused is the tray icon while notifications are paused: a grey bell,
// struck through.
var TrayPaused = fyne.NewStaticResource("tray-paused.png", trayPausedPNG)

// Alert marks bad news in the Activity window: the notifications' red bell.
var Alert = fyne.NewStaticResource("alert.png", alertPNG)
