//go:build !(linux || freebsd || netbsd || openbsd || windows)

package desktop

import (
	"context"
	"sync"

	"github.com/gen2brain/beeep"
)

// Desktop delivers notifications through beeep: the notification centre on
// macOS.
type Desktop struct {
	// SoundFile is unused here: beeep's banners are silent, so nothing
	// rings, as where a Linux server lists no "sound".
	SoundFile string
	// NoUI is unused here: beeep's notifications have no buttons.
	NoUI bool
}

// New returns the desktop's notification sink.
func New() *Desktop { return &Desktop{} }

// Actions never receives: beeep does not say which notification was
// clicked.
func (*Desktop) Actions() <-chan Action { return nil }

var setAppName sync.Once

// Notify shows n. beeep gives no ids: each notification is new.
func (*Desktop) Notify(ctx context.Context, n Notification) (uint32, error) {
	setAppName.Do(func() { beeep.AppName = "Cashbell" })
	return showAsync(ctx, "showing a notification", func() (uint32, error) { return 0, beeep.Notify(n.Title, n.Body, n.Icon) })
}

// Bell is "" here: beeep's banners are silent.
func (*Desktop) Bell(context.Context) string { return "" }

// Ring cannot ring here.
func (*Desktop) Ring(context.Context) error { return ErrNoBell }
