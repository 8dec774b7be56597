//go:build !(linux || freebsd || netbsd || openbsd)

package desktop

import (
	"context"
	"fmt"
)

// showAsync shows a notification through show, which cannot be cancelled:
// a notification service that hangs costs a goroutine, not the poller. The
// id is 0, for services that give none.
func showAsync(ctx context.Context, show func() error) (uint32, error) {
	done := make(chan error, 1)
	go func() { done <- show() }()
	select {
	case err := <-done:
		if err != nil {
			return 0, fmt.Errorf("showing a notification: %w", err)
		}
		return 0, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}
