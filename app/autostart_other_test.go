//go:build !(linux || freebsd || netbsd || openbsd || windows)

package app

import (
	"testing"

	"github.com/cashbell/cashbell/internal/autostart"
)

// testAutostart is the platform's entry, which has nothing to write yet.
func testAutostart(testing.TB, string) *autostart.Entry { return autostart.New("", ID) }
