//go:build windows

package app

import (
	"path/filepath"
	"testing"

	winreg "golang.org/x/sys/windows/registry"

	"github.com/cashbell/cashbell/internal/autostart"
)

// testAutostart is an autostart entry under a scratch registry key, never
// the user's own Run key.
func testAutostart(t testing.TB, dir string) *autostart.Entry {
	base := `Software\Cashbell\test\` + filepath.Base(dir)
	t.Cleanup(func() {
		for _, k := range []string{base + `\Run`, base + `\Approved`, base, `Software\Cashbell\test`} {
			_ = winreg.DeleteKey(winreg.CURRENT_USER, k)
		}
	})
	return &autostart.Entry{Key: base + `\Run`, ApprovedKey: base + `\Approved`, Name: ID,
		Exec: func() (string, error) { return `C:\Program Files\Cashbell\cashbell.exe`, nil }}
}
