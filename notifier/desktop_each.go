//go:build !(linux || freebsd || netbsd || openbsd)

package notifier

import (
	"context"
	"errors"
	"fmt"
)

// notifyEach shows ns one by one through show, which cannot be cancelled:
// a notification service that hangs costs a goroutine, not the poller. The
// ids are all 0, for services that give none.
func notifyEach(ctx context.Context, ns []Notification, show func(Notification) error) ([]uint32, error) {
	done := make(chan error, 1)
	go func() {
		var errs []error
		for _, n := range ns {
			errs = append(errs, show(n))
		}
		done <- errors.Join(errs...)
	}()
	ids := make([]uint32, len(ns))
	select {
	case err := <-done:
		if err != nil {
			return ids, fmt.Errorf("showing a notification: %w", err)
		}
		return ids, nil
	case <-ctx.Done():
		return ids, ctx.Err()
	}
}
