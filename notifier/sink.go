package notifier

import (
	"context"
	"fmt"
	"sync"

	"github.com/gen2brain/beeep"
)

// Desktop delivers notifications through beeep: org.freedesktop.Notifications
// on the session bus on Linux, the platform's own service elsewhere.
type Desktop struct{}

var _ Sink = Desktop{}

var setAppName sync.Once

// Notify shows n. beeep cannot be cancelled, so a notification service that
// hangs costs a goroutine, not the poller.
func (Desktop) Notify(ctx context.Context, n Notification) error {
	setAppName.Do(func() { beeep.AppName = "Cashbell" })
	done := make(chan error, 1)
	go func() {
		done <- beeep.Notify(n.Title, n.Body, n.Icon)
	}()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("showing a notification (is a notification service running?): %w", err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
