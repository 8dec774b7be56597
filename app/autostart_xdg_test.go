//go:build linux || freebsd || netbsd || openbsd

package app

import (
	"path/filepath"
	"testing"

	"github.com/cashbell/cashbell/internal/autostart"
)

// testAutostart is an autostart entry in the test's own folder.
func testAutostart(_ testing.TB, dir string) *autostart.Entry {
	return &autostart.Entry{Path: filepath.Join(dir, "autostart", ID+".desktop"), Exec: func() (string, error) { return "/usr/bin/cashbell", nil }}
}
