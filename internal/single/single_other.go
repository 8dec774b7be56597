//go:build !(linux || freebsd || netbsd || openbsd)

package single

import (
	"context"
	"errors"
	"fmt"
	"runtime"
)

// Serve has no session bus to own a name on here: a second launch finds the
// store locked and says so, but cannot bring this window forward.
func Serve(show func()) (func(), error) {
	return func() {}, fmt.Errorf("no session bus on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

// Activate reports that no running instance was reached.
func Activate(ctx context.Context) bool { return false }
